-- sealpass-issuer store, PostgreSQL. docs/issuer.md, "Data model", explains
-- every table; migrations/sqlite/0001_store.sql is the same schema.

-- One row per person: identity (masked only), current health status, the
-- current signed pass, and when the signer must next look at it.
CREATE TABLE subjects (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject           TEXT    NOT NULL UNIQUE,  -- pseudonymous id from the health authority
    masked_name       TEXT    NOT NULL,         -- 张*明: the full name is never stored
    masked_id         TEXT    NOT NULL,         -- 6101**********1234
    colour            BIGINT  NOT NULL,         -- 0 green, 1 yellow, 2 red
    doses             BIGINT  NOT NULL,
    last_dose         BIGINT ,                  -- days since 1970-01-01
    test_time         BIGINT ,                  -- NumericDate of the last nucleic-acid test
    test_result       BIGINT ,                  -- 0 negative, 1 positive
    status_version    BIGINT  NOT NULL,         -- +1 on every applied event
    status_updated_at BIGINT  NOT NULL,
    pass_text         TEXT,                     -- SP1:... as signed
    pass_kid          TEXT,
    pass_iat          BIGINT ,
    pass_exp          BIGINT ,
    pass_index        BIGINT ,                  -- revocation index
    pass_version      BIGINT ,                  -- status_version the pass was signed from
    prev_index        BIGINT ,                  -- the pass before, still valid until prev_exp
    prev_exp          BIGINT ,
    due_at            BIGINT  NOT NULL          -- the signer (re)signs once due_at <= now
);
CREATE INDEX subjects_due_at ON subjects (due_at);

-- Append-only log of every applied event; the idempotency key is unique.
CREATE TABLE status_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    subject_id      BIGINT  NOT NULL REFERENCES subjects (id),
    kind            TEXT    NOT NULL,           -- enrol, status, revoke
    body            TEXT    NOT NULL,           -- the event as applied (canonical JSON)
    received_at     BIGINT  NOT NULL,
    token           TEXT    NOT NULL            -- name of the admin token that sent it
);

-- Revoked passes, until they expire; their bits make the status list.
CREATE TABLE revoked_passes (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id       BIGINT  NOT NULL REFERENCES subjects (id),
    revocation_index BIGINT  NOT NULL,
    expires_at       BIGINT  NOT NULL,
    revoked_at       BIGINT  NOT NULL,
    reason           TEXT    NOT NULL,
    UNIQUE (revocation_index, expires_at)
);
CREATE INDEX revoked_passes_expires_at ON revoked_passes (expires_at);

-- Revocation indices: a counter per expiry day (docs/issuer.md, "Revocation indices").
CREATE TABLE index_days (
    expiry_day  BIGINT PRIMARY KEY,
    next_offset BIGINT  NOT NULL
);

-- The current signed status list of each issuer.
CREATE TABLE status_lists (
    issuer             TEXT    PRIMARY KEY,
    sequence           BIGINT  NOT NULL,
    bytes              BYTEA   NOT NULL,
    kid                TEXT    NOT NULL,
    issued_at          BIGINT  NOT NULL,
    expires_at         BIGINT  NOT NULL,
    entries            BIGINT  NOT NULL,
    through_revocation BIGINT  NOT NULL       -- highest revoked_passes.id it includes
);

-- Trust lists as published by the key ceremony, exactly as signed.
CREATE TABLE trust_lists (
    sequence     BIGINT PRIMARY KEY,
    bytes        BYTEA   NOT NULL,
    published_at BIGINT  NOT NULL
);

-- Admin API tokens: only SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    token_sha256 TEXT    NOT NULL UNIQUE,
    scopes       TEXT    NOT NULL,             -- space-separated
    created_at   BIGINT  NOT NULL,
    revoked_at   BIGINT 
);
