-- Writes to the object store in progress: a row is added before an object is written and
-- renewed while the write lasts. The reconciler removes an object that no row owns once its
-- write stopped being renewed (the process died), and aborts a write left unfinished (an S3
-- multipart upload, a temporary file). Rows of finished writes go once their object is owned.
CREATE TABLE store_writes (
    object_key  TEXT PRIMARY KEY,
    renewed_at  BIGINT NOT NULL
);
