-- Electronic seals (SPEC §8), PostgreSQL dialect. Keep in step with ../sqlite/0002_seals.sql.
--
-- Seals take their status entries from the same status lists as licences, so one signed list
-- carries both and a seal's status hides among licences. An entry must never serve two
-- holders: `status_entries` records every (list, index) handed out, to a licence or a seal,
-- under one primary key that the triggers below fill from both tables. A second holder for
-- an index fails its INSERT, whichever table it goes into and however many processes share
-- the database: a primary key holds across concurrent transactions (the second inserter waits
-- for the first to commit, then fails). The allocators also avoid each other by construction
-- (issuer/src/seals.rs: seals draw only from lists licences no longer draw from), so the key
-- is a backstop that turns a bug into a refused write, never into a shared index.

CREATE TABLE seals (
    es_id              TEXT    PRIMARY KEY,          -- 电子印章编码 (huren esID, 16 characters)
    region             TEXT    NOT NULL,
    name               TEXT    NOT NULL,             -- 印章名称
    uscc               TEXT    NOT NULL,             -- the organisation's 统一社会信用代码
    seal_type          BIGINT  NOT NULL,             -- 印章类型 (codes in issuer/src/seals.rs)
    der                BYTEA   NOT NULL,             -- the SESeal (.esl) exactly as signed
    list_id            TEXT    NOT NULL REFERENCES status_lists (id),
    idx                BIGINT  NOT NULL,
    status             BIGINT  NOT NULL DEFAULT 0,   -- 0 valid, 1 revoked, 2 suspended
    status_reason      TEXT,
    status_changed_at  BIGINT,
    valid_start        BIGINT  NOT NULL,
    valid_end          BIGINT  NOT NULL,
    created_at         BIGINT  NOT NULL,
    created_by         TEXT    NOT NULL,             -- API token id
    UNIQUE (list_id, idx)
);
CREATE INDEX seals_list_status ON seals (list_id, status);

CREATE TABLE status_entries (
    list_id  TEXT    NOT NULL,
    idx      BIGINT  NOT NULL,
    kind     TEXT    NOT NULL,                       -- 'licence' or 'seal'
    PRIMARY KEY (list_id, idx)
);
INSERT INTO status_entries (list_id, idx, kind) SELECT list_id, idx, 'licence' FROM licences;

-- Statement-level with a transition table: a batch's multi-row INSERT INTO licences costs one
-- INSERT here, not one trigger call per licence.
CREATE FUNCTION huren_licence_status_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_entries (list_id, idx, kind) SELECT list_id, idx, 'licence' FROM new_rows;
    RETURN NULL;
END;
$$;
CREATE TRIGGER licences_status_entries AFTER INSERT ON licences
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION huren_licence_status_entries();

CREATE FUNCTION huren_seal_status_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_entries (list_id, idx, kind) SELECT list_id, idx, 'seal' FROM new_rows;
    RETURN NULL;
END;
$$;
CREATE TRIGGER seals_status_entries AFTER INSERT ON seals
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION huren_seal_status_entries();

-- A status position is for life: moving one would free an index someone still holds.
CREATE FUNCTION huren_status_position_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.list_id IS DISTINCT FROM OLD.list_id OR NEW.idx IS DISTINCT FROM OLD.idx THEN
        RAISE EXCEPTION 'a % keeps its status list position', TG_ARGV[0];
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER licences_position_fixed BEFORE UPDATE OF list_id, idx ON licences
    FOR EACH ROW EXECUTE FUNCTION huren_status_position_fixed('licence');
CREATE TRIGGER seals_position_fixed BEFORE UPDATE OF list_id, idx ON seals
    FOR EACH ROW EXECUTE FUNCTION huren_status_position_fixed('seal');
