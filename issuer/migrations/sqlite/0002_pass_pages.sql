-- Passes move from a column per subject to pages of 64 subjects
-- (docs/issuer.md, "Pass pages"; issuer/src/store/pages.rs has the slot
-- format). Renewing a pass was a row write per subject, with index entries,
-- and cost more than its signature; a page is one write for 64.
--
-- The passes are carried over by Store::migrate (store/convert.rs), which
-- writes the pages from the old columns after this migration; the next,
-- 0003_drop_pass_columns, then drops those columns.
CREATE TABLE pass_pages (
    page     INTEGER PRIMARY KEY,  -- subjects page * 64 .. page * 64 + 63
    due_at   INTEGER NOT NULL,     -- the signer looks at the page once due_at <= now
    revision INTEGER NOT NULL,     -- +1 on every write: the signer stores only what it read
    slots    BLOB    NOT NULL      -- the passes (pages.rs)
);
CREATE INDEX pass_pages_due ON pass_pages (due_at);
