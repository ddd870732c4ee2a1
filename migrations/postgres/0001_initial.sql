-- huren issuer schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_initial.sql.
-- Times are Unix seconds (BIGINT); tokens and identifiers are TEXT.

CREATE TABLE status_lists (
    id          TEXT    PRIMARY KEY,          -- "<region>-<seq>", the last path segment of its URI
    region      TEXT    NOT NULL,
    seq         BIGINT NOT NULL,
    capacity    BIGINT NOT NULL,
    allocated   BIGINT NOT NULL DEFAULT 0,
    version     BIGINT NOT NULL DEFAULT 0,   -- bumped by every status change
    created_at  BIGINT NOT NULL,
    UNIQUE (region, seq)
);

CREATE TABLE licences (
    jti                TEXT    PRIMARY KEY,
    region             TEXT    NOT NULL,
    type_code          TEXT    NOT NULL,
    token              TEXT    NOT NULL,
    list_id            TEXT    NOT NULL REFERENCES status_lists (id),
    idx                BIGINT NOT NULL,
    status             BIGINT NOT NULL DEFAULT 0,   -- 0 valid, 1 revoked, 2 suspended
    status_reason      TEXT,
    status_changed_at  BIGINT,
    supersedes         TEXT,
    superseded_by      TEXT,
    issued_at          BIGINT NOT NULL,
    issued_by          TEXT    NOT NULL,
    UNIQUE (list_id, idx)                        -- an index is never handed out twice
);
CREATE INDEX licences_list_status ON licences (list_id, status);

CREATE TABLE idempotency (
    token_id      TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    jti           TEXT    NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (token_id, key)
);

CREATE TABLE api_tokens (
    id          TEXT    PRIMARY KEY,
    hash        TEXT    NOT NULL UNIQUE,           -- SHA-256 of the bearer token; the token itself is never stored
    region      TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,                  -- comma-separated
    types       TEXT    NOT NULL,                  -- comma-separated type codes or "*"
    label       TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- The head of the hash-chained audit log. Every write transaction updates this row first,
-- which serialises writers (also across processes sharing one database).
CREATE TABLE audit_head (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);

-- Bulk imports: which rows of which file are done, so a re-run issues only what is missing.
CREATE TABLE import_rows (
    row_key  TEXT PRIMARY KEY,                   -- SHA-256 of the file identity and row content
    jti      TEXT NOT NULL
);
