-- An episode's own cover (itunes:image in its feed item, issue 23): JSON of domain::ShowArtwork
-- (the same rules and shape as a show's cover), or NULL: the show's cover stands for it.
ALTER TABLE episodes ADD COLUMN artwork TEXT;
