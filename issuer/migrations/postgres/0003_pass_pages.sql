-- Passes move from a column per subject to pages of 64 subjects
-- (docs/issuer.md, "Pass pages"; issuer/src/store/pages.rs has the slot
-- format). Renewing a pass was a row write per subject, with three index
-- entries and about five WAL records, and cost PostgreSQL more CPU than the
-- signature; a page is one write for 64.
--
-- Passes signed before this migration are not carried over: every page
-- starts due, and the signer's next round signs every subject anew. No
-- store older than this migration was ever deployed.
CREATE TABLE pass_pages (
    page     BIGINT PRIMARY KEY,   -- subjects page * 64 .. page * 64 + 63
    due_at   BIGINT NOT NULL,      -- the signer looks at the page once due_at <= now
    revision BIGINT NOT NULL,      -- +1 on every write: the signer stores only what it read
    slots    BYTEA  NOT NULL       -- the passes (pages.rs)
);
-- Out of line and not compressed: pass texts are Base45 and do not
-- compress; trying costs CPU on every write.
ALTER TABLE pass_pages ALTER COLUMN slots SET STORAGE EXTERNAL;
CREATE INDEX pass_pages_due ON pass_pages (due_at, page);

INSERT INTO pass_pages (page, due_at, revision, slots)
    SELECT DISTINCT id / 64, 0, 0, '\x'::bytea FROM subjects;

DROP INDEX subjects_due;
ALTER TABLE subjects
    DROP COLUMN pass_text,
    DROP COLUMN pass_kid,
    DROP COLUMN pass_iat,
    DROP COLUMN pass_exp,
    DROP COLUMN pass_index,
    DROP COLUMN pass_version,
    DROP COLUMN prev_index,
    DROP COLUMN prev_exp,
    DROP COLUMN due_at;
