-- Region confinement (SPEC §7), PostgreSQL dialect. Keep in step with ../sqlite/0003_region_confinement.sql.
--
-- Several provinces' issuers may share one database; each must see and change only its own
-- region's rows. `licences`, `seals`, `status_lists` and `api_tokens` carry their region
-- already. This migration gives the rest one too: the audit log becomes one hash chain per
-- region (`audit_head` keyed by region, `audit_log` by (region, seq)), and idempotency keys and
-- import resume keys are recorded per region, so one region's lookups never find another's.
--
-- Which region existing rows belong to. Idempotency keys and import rows name the licence or
-- seal they produced, so each takes that row's region. The existing audit log is one chain, and
-- a chain cannot be split without breaking its links, so it goes whole to the region of the
-- issuer that wrote it: the one region of the database's status lists, licences and seals (or,
-- with none of those, of its tokens: a token for another region created through this issuer's
-- database does not count). A database in which several regions already issued holds one
-- interleaved chain no single region owns: it is kept, verifiable as a whole, under the label
-- 'legacy', which is not a region code (`huren issuer audit verify` checks it too), and each
-- region starts its own chain. Entry hashes do not include the region, so a moved chain
-- verifies exactly as before.

CREATE TABLE huren_0003_region (region TEXT NOT NULL);
INSERT INTO huren_0003_region (region)
SELECT CASE
    WHEN (SELECT COUNT(DISTINCT region) FROM (SELECT region FROM status_lists UNION SELECT region FROM licences UNION SELECT region FROM seals) AS data) = 1
        THEN (SELECT MIN(region) FROM (SELECT region FROM status_lists UNION SELECT region FROM licences UNION SELECT region FROM seals) AS data)
    WHEN (SELECT COUNT(*) FROM (SELECT region FROM status_lists UNION SELECT region FROM licences UNION SELECT region FROM seals) AS data) = 0
         AND (SELECT COUNT(DISTINCT region) FROM api_tokens) = 1
        THEN (SELECT MIN(region) FROM api_tokens)
    ELSE 'legacy'
END;

-- One head per region, created by the region's first write. Every write transaction of a
-- region updates its row first, which serialises that region's writers (also across
-- processes); regions no longer wait for each other.
CREATE TABLE audit_head_by_region (
    region  TEXT    PRIMARY KEY,
    seq     BIGINT  NOT NULL,
    hash    TEXT    NOT NULL
);
INSERT INTO audit_head_by_region (region, seq, hash)
SELECT (SELECT region FROM huren_0003_region), seq, hash FROM audit_head WHERE seq > 0;
DROP TABLE audit_head;
ALTER TABLE audit_head_by_region RENAME TO audit_head;

CREATE TABLE audit_log_by_region (
    region     TEXT    NOT NULL,
    seq        BIGINT  NOT NULL,
    at         BIGINT  NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    PRIMARY KEY (region, seq)
);
INSERT INTO audit_log_by_region (region, seq, at, actor, action, subject, detail, prev_hash, hash)
SELECT (SELECT region FROM huren_0003_region), seq, at, actor, action, subject, detail, prev_hash, hash
FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_by_region RENAME TO audit_log;

-- Idempotency keys stay per token (a token belongs to one region); the region makes the lookup
-- itself confined, whatever the token.
ALTER TABLE idempotency ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE idempotency SET region = COALESCE(
    (SELECT region FROM licences WHERE licences.jti = idempotency.jti),
    (SELECT region FROM seals WHERE seals.es_id = idempotency.jti),
    (SELECT region FROM api_tokens WHERE api_tokens.id = idempotency.token_id),
    (SELECT region FROM huren_0003_region));

-- Resume keys are a hash of the file's name and the row's content: two regions importing a file
-- of the same name and row must not skip each other's rows.
CREATE TABLE import_rows_by_region (
    region   TEXT NOT NULL,
    row_key  TEXT NOT NULL,
    jti      TEXT NOT NULL,
    PRIMARY KEY (region, row_key)
);
INSERT INTO import_rows_by_region (region, row_key, jti)
SELECT COALESCE((SELECT region FROM licences WHERE licences.jti = import_rows.jti),
                (SELECT region FROM huren_0003_region)),
       row_key, jti
FROM import_rows;
DROP TABLE import_rows;
ALTER TABLE import_rows_by_region RENAME TO import_rows;

DROP TABLE huren_0003_region;
