-- The issuance transparency log (SPEC §12), SQLite dialect. Keep in step with ../postgres/0006_transparency_log.sql.
--
-- A region's log has one leaf per audit entry, in order (leaf i is audit entry seq i + 1): the
-- audit log, written in the same transaction as each event, is the log's outbox, so an event is
-- never committed without its leaf-to-be, and the sequencer (issuer/src/tlog/) appends what the
-- log lacks after every commit and at start. Everything here is derived from audit_log and the
-- region's log key; none of it holds personal data.

-- The tree as the sequencer last extended it. `size` only grows (check-and-set on the old size).
CREATE TABLE log_state (
    region TEXT PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root TEXT NOT NULL
);

-- Every complete subtree's hash (tlog_tiles' stored hashes: tree level, number at that level).
-- Tiles are read from here; proofs too.
CREATE TABLE log_hashes (
    region TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level >= 0 AND level < 64),
    n INTEGER NOT NULL CHECK (n >= 0),
    hash BLOB NOT NULL,
    PRIMARY KEY (region, level, n)
);

-- Leaves that record a signed token (licence, copy), by the token's SHA-256: how
-- `GET /v1/log/proof?token_sha256=` finds a leaf.
CREATE TABLE log_tokens (
    region TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (region, token_sha256, idx)
);

-- Checkpoints the log signed; `cosigned` is the note with the witnesses' cosignatures once a
-- quorum returned them (`witnessed_at`).
CREATE TABLE log_checkpoints (
    region TEXT NOT NULL,
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    note TEXT NOT NULL,
    cosigned TEXT,
    created_at INTEGER NOT NULL,
    witnessed_at INTEGER,
    PRIMARY KEY (region, size)
);

-- The size each witness last cosigned for the region's log (the `old` of the next request).
CREATE TABLE log_witness_sizes (
    region TEXT NOT NULL,
    witness TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (region, witness)
);

-- This issuer as a witness of other regions' logs: the tree it last cosigned per log. Advanced
-- only by check-and-set on the old size, before the cosignature is sent.
CREATE TABLE witness_views (
    region TEXT NOT NULL,
    origin TEXT NOT NULL,
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    note TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (region, origin)
);

-- Checkpoints this witness refused as inconsistent with its view (a fork, or a bad proof):
-- evidence, kept.
CREATE TABLE witness_refusals (
    region TEXT NOT NULL,
    origin TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX witness_refusals_by_origin ON witness_refusals (region, origin, at);
