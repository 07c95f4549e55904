-- Podcast metadata beyond the core fields (domain::ShowMeta, domain::EpisodeMeta), as JSON:
-- a new feed tag needs no migration, and the values are validated before they are stored.
ALTER TABLE shows ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
ALTER TABLE episodes ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
