-- Acoustic fingerprints of media files, for finding a clip in the archive (issue 25).
-- `media_fingerprints` keeps each media file's whole fingerprint (`items`: Chromaprint's 32-bit
-- items, 4 bytes each, little-endian, one every `item_us` microseconds), written once, when the
-- media's `fingerprint` job is done; `id` is a short number the postings name it by.
CREATE TABLE media_fingerprints (
    id           INTEGER PRIMARY KEY,
    media_id     TEXT NOT NULL UNIQUE REFERENCES media (id),
    item_us      BIGINT NOT NULL,
    duration_ms  BIGINT NOT NULL,
    items        BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);

-- The inverted index: every other item of a fingerprint filed under four 20-bit keys (slices
-- of its 32 bits, see src/media/fingerprint/), `entry` = fingerprint id * 2^24 + the item's
-- position. A lookup reads the postings of a clip's keys and never scans the fingerprints.
CREATE TABLE fingerprint_postings (
    key    BIGINT NOT NULL,
    entry  BIGINT NOT NULL,
    PRIMARY KEY (key, entry)
) WITHOUT ROWID;
