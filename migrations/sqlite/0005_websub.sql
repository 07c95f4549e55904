-- WebSub (feed::cache): the feed each show's hub was last told about, by its strong ETag. The
-- instance whose compare-and-set changes this row sends the ping. A SQLite database is served by
-- one instance, which keeps this in memory; the table keeps both schemas alike.
CREATE TABLE websub_pings (
    show_id    TEXT PRIMARY KEY REFERENCES shows (id),
    feed_etag  TEXT NOT NULL,
    pinged_at  BIGINT NOT NULL
);

-- Every instance asks for the next scheduled publication of all shows once a minute.
CREATE INDEX episodes_publish_at ON episodes (publish_at);
