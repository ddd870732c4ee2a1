-- Electronic seals (SPEC §8), SQLite dialect. Keep in step with ../postgres/0002_seals.sql.
--
-- Seals take their status entries from the same status lists as licences, so one signed list
-- carries both and a seal's status hides among licences. An entry must never serve two
-- holders: `status_entries` records every (list, index) handed out, to a licence or a seal,
-- under one primary key that the triggers below fill from both tables. A second holder for
-- an index fails its INSERT, whichever table it goes into and however many processes share
-- the database. The allocators also avoid each other by construction (issuer/src/seals.rs:
-- seals draw only from lists licences no longer draw from), so the key is a backstop that
-- turns a bug into a refused write, never into a shared index.

CREATE TABLE seals (
    es_id              TEXT    PRIMARY KEY,          -- 电子印章编码 (huren esID, 16 characters)
    region             TEXT    NOT NULL,
    name               TEXT    NOT NULL,             -- 印章名称
    uscc               TEXT    NOT NULL,             -- the organisation's 统一社会信用代码
    seal_type          INTEGER NOT NULL,             -- 印章类型 (codes in issuer/src/seals.rs)
    der                BLOB    NOT NULL,             -- the SESeal (.esl) exactly as signed
    list_id            TEXT    NOT NULL REFERENCES status_lists (id),
    idx                INTEGER NOT NULL,
    status             INTEGER NOT NULL DEFAULT 0,   -- 0 valid, 1 revoked, 2 suspended
    status_reason      TEXT,
    status_changed_at  INTEGER,
    valid_start        INTEGER NOT NULL,
    valid_end          INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    created_by         TEXT    NOT NULL,             -- API token id
    UNIQUE (list_id, idx)
);
CREATE INDEX seals_list_status ON seals (list_id, status);

CREATE TABLE status_entries (
    list_id  TEXT    NOT NULL,
    idx      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,                       -- 'licence' or 'seal'
    PRIMARY KEY (list_id, idx)
);
INSERT INTO status_entries (list_id, idx, kind) SELECT list_id, idx, 'licence' FROM licences;

CREATE TRIGGER licences_status_entry AFTER INSERT ON licences
BEGIN
    INSERT INTO status_entries (list_id, idx, kind) VALUES (NEW.list_id, NEW.idx, 'licence');
END;

CREATE TRIGGER seals_status_entry AFTER INSERT ON seals
BEGIN
    INSERT INTO status_entries (list_id, idx, kind) VALUES (NEW.list_id, NEW.idx, 'seal');
END;

-- A status position is for life: moving one would free an index someone still holds.
CREATE TRIGGER licences_position_fixed BEFORE UPDATE OF list_id, idx ON licences
WHEN NEW.list_id IS NOT OLD.list_id OR NEW.idx IS NOT OLD.idx
BEGIN
    SELECT RAISE(ABORT, 'a licence keeps its status list position');
END;

CREATE TRIGGER seals_position_fixed BEFORE UPDATE OF list_id, idx ON seals
WHEN NEW.list_id IS NOT OLD.list_id OR NEW.idx IS NOT OLD.idx
BEGIN
    SELECT RAISE(ABORT, 'a seal keeps its status list position');
END;
