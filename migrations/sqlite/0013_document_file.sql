-- A document's uploaded file (a PDF), kept in object storage: JSON of db::DocumentFile (key,
-- file name, size, SHA-256, when uploaded), or NULL when there is none.
ALTER TABLE documents ADD COLUMN file TEXT;
