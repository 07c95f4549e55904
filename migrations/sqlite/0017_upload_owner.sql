-- The token that created each resumable upload, so that what a token has open (uploads neither
-- complete nor expired, and the bytes they declare) can be counted and capped
-- (`service::uploads`). Uploads from before have none and count for no one; they expire within
-- SIARAN_UPLOAD_EXPIRY_HOURS.
ALTER TABLE uploads ADD COLUMN token_id TEXT;
CREATE INDEX uploads_open_by_token ON uploads (token_id) WHERE media_id IS NULL;
