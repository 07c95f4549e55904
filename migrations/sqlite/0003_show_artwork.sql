-- A show's cover image (itunes:image): JSON of domain::ShowArtwork, or NULL before one is uploaded.
ALTER TABLE shows ADD COLUMN artwork TEXT;
