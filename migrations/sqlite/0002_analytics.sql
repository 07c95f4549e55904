-- Download analytics (IAB Podcast Measurement v2). No raw IP address is ever stored: listeners
-- are SHA-256 hashes of IP + User-Agent with a salt that is replaced every day and deleted the
-- day after, so yesterday's hashes cannot be linked to anyone (UU 27/2022).

-- One random salt per counting window (a WIB calendar day), shared by every instance.
CREATE TABLE analytics_salts (
    day         TEXT PRIMARY KEY,
    salt        TEXT NOT NULL
);

-- What one listener has been sent of one media file in one window; `counted` once it became a
-- download. `version` makes concurrent updates from several instances safe (compare-and-set).
CREATE TABLE listens (
    media_id    TEXT NOT NULL,
    day         TEXT NOT NULL,
    listener    TEXT NOT NULL,
    coverage    TEXT NOT NULL,
    counted     INTEGER NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (media_id, day, listener)
);

-- One row per counted download: what the reports add up.
CREATE TABLE downloads (
    id          TEXT PRIMARY KEY,
    media_id    TEXT NOT NULL,
    episode_id  TEXT,
    show_id     TEXT,
    day         TEXT NOT NULL,
    app         TEXT,
    country     TEXT,
    counted_at  BIGINT NOT NULL
);
CREATE INDEX downloads_episode ON downloads (episode_id, day);
CREATE INDEX downloads_show ON downloads (show_id, day);
