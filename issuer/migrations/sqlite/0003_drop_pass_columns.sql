-- The pass columns of subjects, after Store::migrate has copied the passes
-- into pass_pages (0002_pass_pages, store/convert.rs).
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
