-- Files beside an episode's recording, kept in the object store: timed transcripts (one per
-- language; language '' never occurs for them) and uploaded JSON chapters (language '').
CREATE TABLE episode_files (
    episode_id   TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('transcript', 'chapters')),
    language     TEXT NOT NULL,
    mime_type    TEXT NOT NULL,
    storage_key  TEXT NOT NULL UNIQUE,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (episode_id, kind, language)
);

-- Other renditions of an episode's recording (podcast:alternateEnclosure): the audio of a video
-- briefing, the video of an audio one.
CREATE TABLE episode_renditions (
    episode_id  TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    media_id    TEXT NOT NULL REFERENCES media (id),
    title       TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (episode_id, media_id)
);
CREATE INDEX episode_renditions_media ON episode_renditions (media_id);

-- Slugs a show or an episode had before: their old URLs answer 301 to the new ones for ever,
-- and no other show or episode may take them.
CREATE TABLE show_slug_history (
    slug        TEXT PRIMARY KEY,
    show_id     TEXT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    retired_at  BIGINT NOT NULL
);
CREATE TABLE episode_slug_history (
    show_id     TEXT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    episode_id  TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    retired_at  BIGINT NOT NULL,
    PRIMARY KEY (show_id, slug)
);

-- When a show last changed its slug: its feed then names the new URL (itunes:new-feed-url).
ALTER TABLE shows ADD COLUMN renamed_at BIGINT;
