-- Signed publication records (issue 25): one append-only log of every publication and every
-- later change of a published episode. Each entry holds the record's canonical JSON (RFC 8785)
-- as it was signed, its hash and its Ed25519 signature; `prev_hash` is the hash of entry
-- `seq - 1` (empty for the first) and `episode_prev` the hash of the episode's previous record.
-- The unique constraints are what keep the chain one: two instances appending at once both
-- claim the same `seq` and `prev_hash`, one insert fails and that instance builds its record
-- again on the new head (`service::transparency::append`). The same holds per episode.
-- No foreign key: a record outlives whatever it describes.
CREATE TABLE publication_log (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL UNIQUE,
    episode_id TEXT NOT NULL,
    episode_prev TEXT NOT NULL,
    key_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    record TEXT NOT NULL,
    signature TEXT NOT NULL,
    UNIQUE (episode_id, episode_prev)
);
CREATE INDEX publication_log_episode ON publication_log (episode_id, seq);
