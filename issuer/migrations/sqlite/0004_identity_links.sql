-- Identity links (issue 17): a citizen's login at an identity provider,
-- its `iss` and `sub`, linked to a sealpass subject by a health authority.
-- A link wins over the provider's subject_template (docs/public-api.md,
-- "Identity providers"); migrations/postgres/0005_identity_links.sql is
-- the same schema.
CREATE TABLE identity_links (
    issuer     TEXT    NOT NULL,              -- the provider's `iss`, exactly
    sub        TEXT    NOT NULL,              -- the citizen's `sub` at that provider
    subject_id INTEGER NOT NULL REFERENCES subjects (id),
    linked_at  INTEGER NOT NULL,
    linked_by  TEXT    NOT NULL,              -- name of the admin token that linked it
    PRIMARY KEY (issuer, sub)
);

-- Every link and unlink, numbered in commit order (a writer holds the
-- table's lock from reading the last version to its commit): the public
-- API reads the changes after the last it saw and forgets what it
-- remembered of the logins they name. Also the links' audit log.
CREATE TABLE identity_link_changes (
    version    INTEGER PRIMARY KEY,           -- 1, 2, ...: one more than the change before
    issuer     TEXT    NOT NULL,
    sub        TEXT    NOT NULL,
    kind       TEXT    NOT NULL,              -- link, unlink
    subject_id INTEGER NOT NULL REFERENCES subjects (id),  -- linked, or the link removed
    changed_at INTEGER NOT NULL,
    token      TEXT    NOT NULL               -- name of the admin token that made the change
);
