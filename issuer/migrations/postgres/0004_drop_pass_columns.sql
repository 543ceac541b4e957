-- The pass columns of subjects, after Store::migrate has copied the passes
-- into pass_pages (0003_pass_pages, store/convert.rs).
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
