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

-- Expression indexes: nothing to keep in step, and no column the Any driver cannot read.
CREATE INDEX episodes_search ON episodes USING GIN (siaran_episode_tsv(title, description));
CREATE INDEX documents_search ON documents USING GIN (siaran_document_tsv(title, number));

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
