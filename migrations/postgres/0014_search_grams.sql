-- Phrases in transcripts (issue 6.4). A phrase used to be checked against the stored positions of
-- every transcript holding all its words: with common words, most of the archive (a sentence
-- repeated in 8,000 of 10,000 transcripts: 8,000 tsvectors read back and tested, 100-200 ms).
-- Transcripts are now also indexed by their words, pairs of adjacent words and runs of three
-- ("informasi", "informasi publik", "keterbukaan informasi publik"), as the lexemes of a GIN
-- expression index (the list itself is not stored). A phrase of up to three words is one lexeme
-- of that index and needs no positions: the index answers it exactly, as it answers words. A
-- longer phrase asks for all its runs of three, and only the transcripts holding them all are
-- tested against the positions. Both come from the same positions, so the answers are the ones
-- the positions give.

-- The words of `v` and the runs of two and three words at adjacent positions ("a b", "a b c"; a
-- lexeme never holds a space: siaran_norm and the parser split on it), without positions. Runs
-- are made of words of at most 100 characters: a lexeme longer than 2,047 bytes would not fit a
-- tsvector, and no spoken word comes near.
CREATE FUNCTION siaran_grams(v tsvector) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
    WITH w AS (
        SELECT lexeme, unnest(positions) AS p FROM unnest(v) WHERE length(lexeme) <= 100
    )
    SELECT array_to_tsvector(ARRAY(
        SELECT lexeme FROM unnest(v)
        UNION ALL
        SELECT DISTINCT a.lexeme || ' ' || b.lexeme FROM w a JOIN w b ON b.p = a.p + 1
        UNION ALL
        SELECT DISTINCT a.lexeme || ' ' || b.lexeme || ' ' || c.lexeme
        FROM w a JOIN w b ON b.p = a.p + 1 JOIN w c ON c.p = a.p + 2))
);

-- The lexemes of `terms` in that index, all required (`g`, NULL when no term has a word), and
-- whether they answer the terms exactly (`exact`): a term of up to three words is one lexeme; a
-- longer one is asked as its runs of three, and then positions decide; a term with a word over
-- 100 characters (not in any run), or whose words are not at consecutive positions (which this
-- configuration never gives), as its words alone, and positions decide.
CREATE FUNCTION siaran_grams_q(terms text[], OUT g tsquery, OUT exact boolean)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $f$
DECLARE
    t text;
    a text[];
    lo int;
    hi int;
    parts text[] := '{}';
BEGIN
    exact := true;
    FOREACH t IN ARRAY terms LOOP
        SELECT array_agg(x.lexeme ORDER BY x.p), min(x.p), max(x.p) INTO a, lo, hi
        FROM (SELECT u.lexeme, unnest(u.positions) AS p FROM unnest(siaran_tsv(t)) u) x;
        CONTINUE WHEN a IS NULL;
        IF hi - lo + 1 <> cardinality(a)
            OR EXISTS (SELECT 1 FROM unnest(a) x WHERE length(x) > 100) THEN
            parts := parts || a;
            exact := false;
        ELSIF cardinality(a) <= 3 THEN
            parts := parts || array_to_string(a, ' ');
        ELSE
            parts := parts || ARRAY(SELECT array_to_string(a[i:i + 2], ' ')
                                    FROM generate_series(1, cardinality(a) - 2) i);
            exact := false;
        END IF;
    END LOOP;
    IF cardinality(parts) > 0 THEN
        g := (SELECT string_agg(quote_literal(x), ' & ') FROM unnest(parts) x)::tsquery;
    END IF;
END $f$;

CREATE INDEX transcript_search_grams ON transcript_search USING GIN (siaran_grams(search));
-- Words are found through the new index too.
DROP INDEX transcript_search_gin;

-- The episodes whose transcripts hold every term of `terms` (`q` being their tsquery), through
-- the index of runs; positions are read only for a phrase of more than three words. Sequential
-- scans are ruled out here only: PostgreSQL's costs leave out reading a TOASTed tsvector back.
DROP FUNCTION siaran_transcript_matches(tsquery);
CREATE FUNCTION siaran_transcript_matches(q tsquery, terms text[])
    RETURNS TABLE (episode_id text)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SET enable_seqscan = off ROWS 1000
    AS $f$
DECLARE
    g tsquery;
    exact boolean;
BEGIN
    SELECT k.g, k.exact INTO g, exact FROM siaran_grams_q(terms) k;
    IF g IS NULL THEN
        RETURN;
    END IF;
    -- An episode with transcripts in two languages may come twice: the caller counts it once.
    RETURN QUERY SELECT t.episode_id FROM transcript_search t
        WHERE siaran_grams(t.search) @@ g AND (exact OR t.search @@ q);
END $f$;
