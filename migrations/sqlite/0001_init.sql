-- Portable schema: ids are TEXT (UUID strings), times are BIGINT epoch milliseconds, booleans are
-- INTEGER 0/1, so one sqlx::Any implementation reads both databases (see src/db/mod.rs).

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'editor')),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE shows (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    language     TEXT NOT NULL,
    author       TEXT NOT NULL,
    email        TEXT NOT NULL,
    category     TEXT NOT NULL,
    explicit     INTEGER NOT NULL,
    podcast_guid TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE media (
    id           TEXT PRIMARY KEY,
    storage_key  TEXT NOT NULL UNIQUE,
    filename     TEXT NOT NULL,
    mime_type    TEXT NOT NULL,
    extension    TEXT NOT NULL,
    duration_ms  BIGINT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    info         TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX media_sha256 ON media (sha256);

CREATE TABLE episodes (
    id           TEXT PRIMARY KEY,
    show_id      TEXT NOT NULL REFERENCES shows (id),
    slug         TEXT NOT NULL,
    guid         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    media_id     TEXT NOT NULL REFERENCES media (id),
    publish_at   BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (show_id, slug)
);
CREATE INDEX episodes_feed ON episodes (show_id, publish_at);

CREATE TABLE documents (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    number      TEXT,
    kind        TEXT NOT NULL,
    issuer      TEXT,
    issued_on   TEXT,
    url         TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE episode_documents (
    id           TEXT PRIMARY KEY,
    episode_id   TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    at_ms        BIGINT,
    note         TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX episode_documents_episode ON episode_documents (episode_id);
CREATE INDEX episode_documents_document ON episode_documents (document_id);
