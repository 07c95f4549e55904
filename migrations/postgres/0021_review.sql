-- Review before publication (issue 23): an unpublished episode is in review (submitted to its
-- show's editors) or returned (with the reviewer's comment, which its author reads). The last
-- step only, with who took it and when; every step is in the audit trail. Publishing or
-- scheduling clears it.
ALTER TABLE episodes ADD COLUMN review_state TEXT CHECK (review_state IN ('in_review', 'returned'));
ALTER TABLE episodes ADD COLUMN review_by TEXT;
ALTER TABLE episodes ADD COLUMN review_at BIGINT;
ALTER TABLE episodes ADD COLUMN review_comment TEXT;
-- The studio's dashboard lists a show's episodes by state, most recently changed first, a page
-- at a time.
CREATE INDEX episodes_studio ON episodes (show_id, updated_at);
