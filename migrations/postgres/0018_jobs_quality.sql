-- Background jobs claimed through the database (issue 24): any instance may run a job, and the
-- claim is one atomic UPDATE, so two instances never run the same one. A claim sets `lease`
-- (the claimant's token) and `locked_until`; a worker renews the lease while it works, and a
-- job whose lease ran out (its worker died) is claimed again, until `attempts` reaches the
-- limit and it is marked failed. One job per kind and media file.
CREATE TABLE jobs (
    kind          TEXT NOT NULL,
    media_id      TEXT NOT NULL REFERENCES media (id),
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    lease         TEXT,
    locked_until  BIGINT,
    error_code    TEXT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    run_after     BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (kind, media_id)
);

CREATE INDEX jobs_by_state ON jobs (kind, state, created_at);

-- What the sound-quality analysis of a media file found (`report`, JSON) and its waveform's
-- stored files (`waveform`, JSON: the keys, sizes and hashes of the .json, .dat and overview).
-- Written once, when the media's `quality` job is done.
CREATE TABLE media_quality (
    media_id     TEXT PRIMARY KEY REFERENCES media (id),
    report       TEXT NOT NULL,
    waveform     TEXT NOT NULL,
    analysed_at  BIGINT NOT NULL
);
