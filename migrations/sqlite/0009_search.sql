-- Full-text search (issue 6.4) with FTS5. Tokenizer: unicode61 with remove_diacritics 2 (case and
-- accents folded; "é" finds "e"). FTS5 ships no Indonesian stemmer (only porter, for English),
-- so words match as written: "sediakan" does not find "menyediakan" here, while PostgreSQL's
-- `indonesian` configuration stems both to "sedia".
--
-- FTS rows carry integer rowids of their own (the *_search_rows tables): the base tables have
-- TEXT primary keys, whose implicit rowids VACUUM may renumber.
-- Titles and descriptions (episodes) and titles and numbers (documents) are kept in step by
-- triggers, so no handler can forget them. Every statement that fires them runs in a
-- `BEGIN IMMEDIATE` transaction whose connection is closed if it does not commit (`Writer` in
-- src/db/any.rs): see there what FTS5 did otherwise. Transcripts live in the object store; their
-- cues are copied here by `Db::put_transcript` in the transaction that records the file, and
-- leave with it (ON DELETE CASCADE from episode_files).

CREATE TABLE episode_search_rows (
    n           INTEGER PRIMARY KEY,
    episode_id  TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE episodes_fts USING fts5(
    title, description, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO episode_search_rows (episode_id) SELECT id FROM episodes;
INSERT INTO episodes_fts (rowid, title, description)
    SELECT k.n, e.title, e.description FROM episodes e JOIN episode_search_rows k ON k.episode_id = e.id;
CREATE TRIGGER episodes_search_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO episode_search_rows (episode_id) VALUES (new.id);
    INSERT INTO episodes_fts (rowid, title, description) VALUES
        ((SELECT n FROM episode_search_rows WHERE episode_id = new.id), new.title, new.description);
END;
CREATE TRIGGER episodes_search_update AFTER UPDATE OF title, description ON episodes BEGIN
    UPDATE episodes_fts SET title = new.title, description = new.description
        WHERE rowid = (SELECT n FROM episode_search_rows WHERE episode_id = new.id);
END;
CREATE TRIGGER episodes_search_delete AFTER DELETE ON episodes BEGIN
    DELETE FROM episodes_fts WHERE rowid = (SELECT n FROM episode_search_rows WHERE episode_id = old.id);
    DELETE FROM episode_search_rows WHERE episode_id = old.id;
END;

CREATE TABLE document_search_rows (
    n            INTEGER PRIMARY KEY,
    document_id  TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE documents_fts USING fts5(
    title, number, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO document_search_rows (document_id) SELECT id FROM documents;
INSERT INTO documents_fts (rowid, title, number)
    SELECT k.n, d.title, COALESCE(d.number, '') FROM documents d JOIN document_search_rows k ON k.document_id = d.id;
CREATE TRIGGER documents_search_insert AFTER INSERT ON documents BEGIN
    INSERT INTO document_search_rows (document_id) VALUES (new.id);
    INSERT INTO documents_fts (rowid, title, number) VALUES
        ((SELECT n FROM document_search_rows WHERE document_id = new.id), new.title, COALESCE(new.number, ''));
END;
CREATE TRIGGER documents_search_update AFTER UPDATE OF title, number ON documents BEGIN
    UPDATE documents_fts SET title = new.title, number = COALESCE(new.number, '')
        WHERE rowid = (SELECT n FROM document_search_rows WHERE document_id = new.id);
END;
CREATE TRIGGER documents_search_delete AFTER DELETE ON documents BEGIN
    DELETE FROM documents_fts WHERE rowid = (SELECT n FROM document_search_rows WHERE document_id = old.id);
    DELETE FROM document_search_rows WHERE document_id = old.id;
END;

-- One row per cue of every transcript (all languages), in plain text (markup removed, a voice
-- tag kept as "Name: "). A transcript's cues get consecutive ids, which lets a search look at
-- one episode's cues as a rowid range of the FTS index.
CREATE TABLE transcript_cues (
    id          INTEGER PRIMARY KEY,
    episode_id  TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'transcript' CHECK (kind = 'transcript'),
    language    TEXT NOT NULL,
    start_ms    BIGINT NOT NULL,
    end_ms      BIGINT NOT NULL,
    text        TEXT NOT NULL,
    FOREIGN KEY (episode_id, kind, language)
        REFERENCES episode_files (episode_id, kind, language) ON DELETE CASCADE
);
CREATE INDEX transcript_cues_episode ON transcript_cues (episode_id, language, start_ms);
CREATE VIRTUAL TABLE transcript_cues_fts USING fts5(
    text, content = 'transcript_cues', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER transcript_cues_insert AFTER INSERT ON transcript_cues BEGIN
    INSERT INTO transcript_cues_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER transcript_cues_delete AFTER DELETE ON transcript_cues BEGIN
    INSERT INTO transcript_cues_fts (transcript_cues_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- One row per transcript, its whole text indexed (not stored: contentless), to rank episodes:
-- ranking by cues would visit every cue holding a common word (a million at 10,000 episodes).
CREATE TABLE transcript_search (
    id          INTEGER PRIMARY KEY,
    episode_id  TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'transcript' CHECK (kind = 'transcript'),
    language    TEXT NOT NULL,
    UNIQUE (episode_id, language),
    FOREIGN KEY (episode_id, kind, language)
        REFERENCES episode_files (episode_id, kind, language) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE transcripts_fts USING fts5(
    text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER transcript_search_delete AFTER DELETE ON transcript_search BEGIN
    DELETE FROM transcripts_fts WHERE rowid = old.id;
END;
