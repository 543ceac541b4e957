-- Passes move from a column per subject to pages of 64 subjects
-- (docs/issuer.md, "Pass pages"; issuer/src/store/pages.rs has the slot
-- format). Renewing a pass was a row write per subject, with index entries,
-- and cost more than its signature; a page is one write for 64.
--
-- Passes signed before this migration are not carried over: every page
-- starts due, and the signer's next round signs every subject anew. No
-- store older than this migration was ever deployed.
CREATE TABLE pass_pages (
    page     INTEGER PRIMARY KEY,  -- subjects page * 64 .. page * 64 + 63
    due_at   INTEGER NOT NULL,     -- the signer looks at the page once due_at <= now
    revision INTEGER NOT NULL,     -- +1 on every write: the signer stores only what it read
    slots    BLOB    NOT NULL      -- the passes (pages.rs)
);
CREATE INDEX pass_pages_due ON pass_pages (due_at);

INSERT INTO pass_pages (page, due_at, revision, slots)
    SELECT DISTINCT id / 64, 0, 0, x'' FROM subjects;

DROP INDEX subjects_due_at;
ALTER TABLE subjects DROP COLUMN pass_text;
ALTER TABLE subjects DROP COLUMN pass_kid;
ALTER TABLE subjects DROP COLUMN pass_iat;
ALTER TABLE subjects DROP COLUMN pass_exp;
ALTER TABLE subjects DROP COLUMN pass_index;
ALTER TABLE subjects DROP COLUMN pass_version;
ALTER TABLE subjects DROP COLUMN prev_index;
ALTER TABLE subjects DROP COLUMN prev_exp;
ALTER TABLE subjects DROP COLUMN due_at;
