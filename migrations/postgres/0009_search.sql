-- Full-text search (issue 6.4). The text search configuration `siaran_search` copies PostgreSQL's
-- `indonesian` (Snowball stemmer: "menyediakan" and "disediakan" both become "sedia"; no stop
-- words), or `simple` where the server has no `indonesian` (before PostgreSQL 13), with the
-- `unaccent` filter in front when that extension can be created (it is trusted: a database owner
-- may). ASCII punctuation becomes a space first (siaran_norm), so "14/2008", "e-KTP" or
-- "kominfo.go.id" split into words as SQLite's unicode61 tokenizer splits them, instead of
-- PostgreSQL's parser keeping them whole as a path, a hyphenated word or a host name.
DO $$
DECLARE
    stem text := 'simple';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'indonesian') THEN
        CREATE TEXT SEARCH CONFIGURATION siaran_search (COPY = pg_catalog.indonesian);
        stem := 'indonesian_stem';
    ELSE
        CREATE TEXT SEARCH CONFIGURATION siaran_search (COPY = pg_catalog.simple);
    END IF;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS unaccent;
        EXECUTE format('ALTER TEXT SEARCH CONFIGURATION siaran_search '
            'ALTER MAPPING FOR asciiword, word, hword, hword_part, hword_asciipart '
            'WITH unaccent, %I', stem);
        EXECUTE 'ALTER TEXT SEARCH CONFIGURATION siaran_search '
            'ALTER MAPPING FOR numword, numhword, hword_numpart WITH unaccent, simple';
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'unaccent unavailable (%): search stays accent-sensitive', SQLERRM;
    END;
END $$;

CREATE FUNCTION siaran_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN regexp_replace(t, '[!-/:-@\[-`{-~]+', ' ', 'g');
CREATE FUNCTION siaran_tsv(t text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_tsvector('siaran_search'::regconfig, siaran_norm(t));
-- One term of a query (a word or a phrase), as a tsquery.
CREATE FUNCTION siaran_tsq(t text) RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN phraseto_tsquery('siaran_search'::regconfig, siaran_norm(t));
CREATE FUNCTION siaran_episode_tsv(title text, description text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN setweight(siaran_tsv(title), 'A') || setweight(siaran_tsv(description), 'B');
CREATE FUNCTION siaran_document_tsv(title text, number text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN siaran_tsv(title || ' ' || COALESCE(number, ''));

-- Title and title + description of each episode, and title + number of each document, as
-- tsvectors kept in step by triggers (so no handler can forget them) in tables of their own: the
-- Any driver cannot read a tsvector column, and `episodes` is read with every column in places.
-- Stored rather than expression indexes: a match is checked (and a title match told apart)
-- without parsing the text again for every row found.
CREATE TABLE episode_search (
    episode_id  TEXT PRIMARY KEY REFERENCES episodes (id) ON DELETE CASCADE,
    title       tsvector NOT NULL,
    body        tsvector NOT NULL
);
CREATE INDEX episode_search_body ON episode_search USING GIN (body);
CREATE FUNCTION siaran_episode_search() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO episode_search (episode_id, title, body)
    VALUES (NEW.id, siaran_tsv(NEW.title), siaran_episode_tsv(NEW.title, NEW.description))
    ON CONFLICT (episode_id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body;
    RETURN NULL;
END $f$;
CREATE TRIGGER episodes_search AFTER INSERT OR UPDATE OF title, description ON episodes
    FOR EACH ROW EXECUTE FUNCTION siaran_episode_search();
INSERT INTO episode_search (episode_id, title, body)
    SELECT id, siaran_tsv(title), siaran_episode_tsv(title, description) FROM episodes;

CREATE TABLE document_search (
    document_id  TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    body         tsvector NOT NULL
);
CREATE INDEX document_search_body ON document_search USING GIN (body);
CREATE FUNCTION siaran_document_search() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO document_search (document_id, body)
    VALUES (NEW.id, siaran_document_tsv(NEW.title, NEW.number))
    ON CONFLICT (document_id) DO UPDATE SET body = EXCLUDED.body;
    RETURN NULL;
END $f$;
CREATE TRIGGER documents_search AFTER INSERT OR UPDATE OF title, number ON documents
    FOR EACH ROW EXECUTE FUNCTION siaran_document_search();
INSERT INTO document_search (document_id, body)
    SELECT id, siaran_document_tsv(title, number) FROM documents;

-- One row per cue of every transcript (all languages), in plain text, filled by
-- Db::put_transcript in the transaction that records the file and removed with it. Cues are only
-- searched within the episodes already found, through the (episode_id, ...) index, so their
-- tsvector is stored (computed once) but not GIN-indexed.
CREATE TABLE transcript_cues (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    episode_id  TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'transcript' CHECK (kind = 'transcript'),
    language    TEXT NOT NULL,
    start_ms    BIGINT NOT NULL,
    end_ms      BIGINT NOT NULL,
    text        TEXT NOT NULL,
    search      tsvector GENERATED ALWAYS AS (siaran_tsv(text)) STORED,
    FOREIGN KEY (episode_id, kind, language)
        REFERENCES episode_files (episode_id, kind, language) ON DELETE CASCADE
);
CREATE INDEX transcript_cues_episode ON transcript_cues (episode_id, language, start_ms);

-- One row per transcript: its whole text as one tsvector, to find and rank episodes.
CREATE TABLE transcript_search (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    episode_id  TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'transcript' CHECK (kind = 'transcript'),
    language    TEXT NOT NULL,
    search      tsvector NOT NULL,
    UNIQUE (episode_id, language),
    FOREIGN KEY (episode_id, kind, language)
        REFERENCES episode_files (episode_id, kind, language) ON DELETE CASCADE
);
CREATE INDEX transcript_search_gin ON transcript_search USING GIN (search);
-- A phrase is checked against the stored positions of every transcript holding its words: lz4
-- reads them back several times faster than the default pglz (kept when the server lacks lz4).
DO $$
BEGIN
    ALTER TABLE transcript_search ALTER COLUMN search SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 unavailable (%): transcripts stay pglz-compressed', SQLERRM;
END $$;

-- The episodes whose transcripts match `q`, through the GIN index. PostgreSQL's costs leave out
-- reading a TOASTed tsvector back, so for a common word it would rather test every transcript
-- (70 ms at 10,000) than ask the index, which answers a word without reading one (2 ms). The
-- setting holds inside this function only: the rest of a search keeps its hash joins.
CREATE FUNCTION siaran_transcript_matches(q tsquery) RETURNS TABLE (episode_id text)
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_seqscan = off ROWS 1000
    AS $f$ SELECT DISTINCT t.episode_id FROM transcript_search t WHERE t.search @@ q $f$;
