-- The signer reads due subjects in (due_at, id) order, a page at a time
-- after a cursor (Store::due_subjects). An index on (due_at) alone makes
-- PostgreSQL sort every due row for each page, or filter its way from the
-- first due entry to the cursor; on (due_at, id) each page is an index
-- range scan of its own rows. SQLite needs no such migration: every SQLite
-- index ends with the rowid, and `id` is the rowid, so its subjects_due_at
-- already is (due_at, id).
CREATE INDEX subjects_due ON subjects (due_at, id);
DROP INDEX subjects_due_at;
