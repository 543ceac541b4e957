-- Device binding (issue 18, part 2): a citizen's phone key bound to a
-- subject (docs/issuer.md, "Device binding"); migrations/sqlite/
-- 0005_device_binding.sql is the same schema.

-- The bound device's public key, hex: 32 bytes for Ed25519, the 33-byte
-- compressed SEC1 point for P-256 (sealpass_core::live::DeviceKey::to_bytes).
-- NULL: not bound. One device per subject; a key may be bound to several.
ALTER TABLE subjects ADD COLUMN holder_key TEXT;

-- A subject's bindings in time order (status_events of kind 'bind'): the
-- rate limit on new devices counts them.
CREATE INDEX status_events_bindings ON status_events (subject_id, received_at)
    WHERE kind = 'bind';

-- Secrets the public API nodes share, made once: 'bind_challenge' keys
-- the HMAC of device-binding challenges, so any node checks a challenge
-- another node gave.
CREATE TABLE issuer_secrets (
    name       TEXT    PRIMARY KEY,
    value      BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);
