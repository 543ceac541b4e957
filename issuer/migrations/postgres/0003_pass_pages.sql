-- Passes move from a column per subject to pages of 64 subjects
-- (docs/issuer.md, "Pass pages"; issuer/src/store/pages.rs has the slot
-- format). Renewing a pass was a row write per subject, with three index
-- entries and about five WAL records, and cost PostgreSQL more CPU than the
-- signature; a page is one write for 64.
--
-- The passes are carried over by Store::migrate (store/convert.rs), which
-- writes the pages from the old columns after this migration; the next,
-- 0004_drop_pass_columns, then drops those columns.
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
