-- Runs first (pg_regress takes the files in name order, in one database): installs the
-- extension and the helpers the other files read slots with.
--
-- regress.get_changes(slot, options...) / regress.peek_changes(slot, options...) return the
-- plugin's messages byte for byte, with only the volatile parts of the header (everything
-- before "record", which comes last and is left as it is) replaced:
--   "commit_lsn":"L<n>"   n = rank of the LSN among the messages returned (L1 first);
--                         a transaction's messages and its commit marker share one label
--   "end_lsn":"E<n>"      n = the label of the same message's commit_lsn, when end_lsn is
--                         past it; "L<n>" when it is equal to it
--                         (the marker after a non-transactional message)
--   "xid":X<n>            n = rank of the xid among the xids returned (X1 lowest, so the
--                         order transactions started in); replaced only when every message
--                         with this commit_lsn carries the same xid
--   "commit_time":"<time>"  replaced only when it is ISO 8601 UTC with microseconds and Z
--                         and is the same for every message with this commit_lsn
--   "xid":null, "commit_time":null (a non-transactional message and its commit marker)
--                         stay as they are
-- Anything that breaks those rules stays raw, so it shows up as a diff.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crmsync;
DROP SCHEMA IF EXISTS regress CASCADE;
RESET client_min_messages;
CREATE SCHEMA regress;

CREATE FUNCTION regress.mask(messages text[]) RETURNS TABLE (data text)
LANGUAGE sql IMMUTABLE AS $$
  WITH split AS (
    -- Only the header is masked. "record" comes last and may hold anything (a message's
    -- payload, {"xid":7}); ',"record":' cannot occur earlier, since every '"' inside a JSON
    -- string is escaped.
    SELECT n, m, CASE WHEN p > 0 THEN left(m, p - 1) ELSE m END AS head,
           CASE WHEN p > 0 THEN substr(m, p) ELSE '' END AS tail
    FROM unnest(messages) WITH ORDINALITY AS u(m, n), LATERAL (SELECT strpos(m, ',"record":') AS p) s
  ), parsed AS (
    SELECT n, head, tail,
           substring(head FROM '"commit_lsn":"([0-9A-F]+/[0-9A-F]+)"')::pg_lsn AS lsn,
           substring(head FROM '"end_lsn":"([0-9A-F]+/[0-9A-F]+)"')::pg_lsn AS end_lsn,
           substring(head FROM '"xid":([0-9]+)')::bigint AS xid,
           substring(head FROM '"commit_time":("[^"]*")') AS commit_time
    FROM split
  ), labelled AS (
    SELECT *,
           dense_rank() OVER (ORDER BY lsn) AS lsn_no,
           dense_rank() OVER (PARTITION BY xid IS NULL ORDER BY xid) AS xid_no,
           min(xid) OVER (PARTITION BY lsn) = max(xid) OVER (PARTITION BY lsn) AS xid_same,
           min(commit_time) OVER (PARTITION BY lsn) = max(commit_time) OVER (PARTITION BY lsn) AS time_same
    FROM parsed
  )
  SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(head,
           '"commit_lsn":"[0-9A-F]+/[0-9A-F]+"', '"commit_lsn":"L' || lsn_no || '"'),
           '"end_lsn":"' || CASE WHEN end_lsn >= lsn THEN '[0-9A-F]+/[0-9A-F]+' ELSE 'x^' END || '"',
           '"end_lsn":"' || CASE WHEN end_lsn > lsn THEN 'E' ELSE 'L' END || lsn_no || '"'),
           '"xid":' || CASE WHEN xid_same THEN '[0-9]+' ELSE 'x^' END,
           '"xid":X' || xid_no),
           '"commit_time":' || CASE WHEN time_same THEN '"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"' ELSE 'x^' END,
           '"commit_time":"<time>"') || tail
  FROM labelled
  ORDER BY n
$$;

CREATE FUNCTION regress.get_changes(slot name, VARIADIC options text[]) RETURNS TABLE (data text)
LANGUAGE sql AS $$
  SELECT data FROM regress.mask(ARRAY(
    SELECT c.data FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC options) WITH ORDINALITY AS c(lsn, xid, data, n)
    ORDER BY c.n))
$$;

CREATE FUNCTION regress.peek_changes(slot name, VARIADIC options text[]) RETURNS TABLE (data text)
LANGUAGE sql AS $$
  SELECT data FROM regress.mask(ARRAY(
    SELECT c.data FROM pg_logical_slot_peek_changes(slot, NULL, NULL, VARIADIC options) WITH ORDINALITY AS c(lsn, xid, data, n)
    ORDER BY c.n))
$$;

-- The masking itself, on fixed input: two transactions, non-transactional messages with
-- their commit markers (xid and commit_time null; a payload that looks like a header is
-- left alone), and values that break the rules (left raw).
SELECT * FROM regress.mask(ARRAY[
  '{"action":"upsert","object":"o","key":"1","table":"public.t","commit_lsn":"0/1A0","seq":1,"xid":900,"commit_time":"2026-01-01T00:00:00.000001Z","record":{"xid":1}}',
  '{"action":"commit","xid":900,"commit_lsn":"0/1A0","end_lsn":"0/1D0","commit_time":"2026-01-01T00:00:00.000001Z","count":1}',
  '{"action":"message","object":null,"key":null,"table":null,"commit_lsn":"0/150","seq":1,"xid":null,"commit_time":null,"prefix":"crmsync","transactional":false,"record":1}',
  '{"action":"commit","xid":null,"commit_lsn":"0/150","end_lsn":"0/150","commit_time":null,"count":1}',
  '{"action":"message","object":null,"key":null,"table":null,"commit_lsn":"0/160","seq":1,"xid":null,"commit_time":null,"prefix":"crmsync","transactional":false,"record":{"commit_lsn":"0/1","xid":7,"commit_time":"2026-01-01T00:00:00.000001Z","record":1}}',
  '{"action":"commit","xid":null,"commit_lsn":"0/160","end_lsn":"0/160","commit_time":null,"count":1}',
  '{"action":"upsert","object":"o","key":"2","table":"public.t","commit_lsn":"0/2A0","seq":1,"xid":899,"commit_time":"2026-01-01T00:00:00Z","record":{}}',
  '{"action":"commit","xid":899,"commit_lsn":"0/2A0","end_lsn":"0/290","commit_time":"2026-01-01T00:00:00Z","count":1}']);
