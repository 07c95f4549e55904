-- Resumable (tus) uploads. The offset every instance continues from lives here, and each chunk
-- received so far is an object in the store (`uploads/...` keys) listed in upload_chunks, so any
-- instance behind the load balancer can take the next PATCH. `claim` names the one request that
-- may append next: a newer PATCH takes it over from a stalled one, whose chunk is then discarded.
CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,
    length      BIGINT NOT NULL,
    received    BIGINT NOT NULL DEFAULT 0,
    filename    TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    claim       TEXT NOT NULL,
    media_id    TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE INDEX uploads_by_expiry ON uploads (expires_at);

CREATE TABLE upload_chunks (
    upload_id     TEXT NOT NULL,
    start_offset  BIGINT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    storage_key   TEXT NOT NULL,
    PRIMARY KEY (upload_id, start_offset)
);
