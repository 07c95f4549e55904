-- The signed-in user who created a resumable upload through the studio (a session, no token),
-- so that a user's open uploads are counted and capped as a token's are (`service::uploads`).
-- Uploads from before have none and count for no one; they expire within
-- SIARAN_UPLOAD_EXPIRY_HOURS.
ALTER TABLE uploads ADD COLUMN user_id TEXT;
CREATE INDEX uploads_open_by_user ON uploads (user_id) WHERE media_id IS NULL;
