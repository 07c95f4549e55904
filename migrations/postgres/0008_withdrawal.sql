-- A published briefing taken down: it leaves the feed, and its page answers 410 with the
-- reason and the date, never a silent 404 (its address was cited).
ALTER TABLE episodes ADD COLUMN withdrawn_at BIGINT;
ALTER TABLE episodes ADD COLUMN withdrawn_reason TEXT;
