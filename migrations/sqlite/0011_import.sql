-- Imported episodes keep the source feed's item guid exactly (`guid`, already free text), and
-- whether it was a permalink (RSS 2.0's `isPermaLink`, true when the attribute is absent).
-- Siaran's own guids are not permalinks: 0 for every existing row.
ALTER TABLE episodes ADD COLUMN guid_permalink INTEGER NOT NULL DEFAULT 0;
