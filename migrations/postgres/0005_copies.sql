-- Annotated copies (加注件, SPEC §11), PostgreSQL dialect. Keep in step with ../sqlite/0005_copies.sql.
--
-- A copy lets one using unit use a licence for one matter, for a limited time, showing only
-- the fields the holder chose. Each copy has its own status entry (withdrawal by the holder),
-- drawn from the region's status lists like a licence's — except an on-screen 亮证码 (category
-- 1, no unit, at most 300 s), which a phone refreshes every few minutes and which ends before
-- a withdrawal could reach a verifier: it has none (list_id and idx NULL). Otherwise the trigger below records it in
-- `status_entries`, whose primary key keeps an index from ever serving two subjects. The
-- licence's own entry is shared by every copy (revoking the licence revokes them all), so
-- nothing here changes when the licence's status does. Rows are confined to their region as
-- licences are (migration 0003). Stored: identifiers, the purpose, the audience and the
-- disclosed keys; the token itself holds the disclosed personal data, as `licences.token` does.

CREATE TABLE copies (
    id               TEXT    PRIMARY KEY,          -- copy id (26 base32 characters)
    region           TEXT    NOT NULL,
    licence_jti      TEXT    NOT NULL REFERENCES licences (jti),
    purpose          TEXT    NOT NULL,             -- JSON: {cause, category, item_code?, item_name?}
    aud_code         TEXT,                         -- 用证单位 USCC; NULL = any window
    aud_name         TEXT,
    disclosed        TEXT    NOT NULL,             -- JSON array of disclosure keys
    copier           TEXT    NOT NULL,             -- 制作者 (the token's label)
    made_at          BIGINT  NOT NULL,
    made_by          TEXT    NOT NULL,             -- API token id
    expires_at       BIGINT  NOT NULL,
    token            TEXT    NOT NULL,             -- the signed copy (licence-copy+jwt)
    list_id          TEXT    REFERENCES status_lists (id),   -- NULL: an on-screen code
    idx              BIGINT,
    withdrawn_at     BIGINT,
    withdraw_reason  TEXT,
    UNIQUE (list_id, idx),
    CHECK ((list_id IS NULL) = (idx IS NULL))
);
CREATE INDEX copies_licence ON copies (region, licence_jti);
CREATE INDEX copies_list_withdrawn ON copies (list_id, withdrawn_at);

CREATE FUNCTION huren_copy_status_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_entries (list_id, idx, kind)
        SELECT list_id, idx, 'copy' FROM new_rows WHERE list_id IS NOT NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER copies_status_entries AFTER INSERT ON copies
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION huren_copy_status_entries();

-- A status position is for life: moving one would free an index someone still holds.
CREATE TRIGGER copies_position_fixed BEFORE UPDATE OF list_id, idx ON copies
    FOR EACH ROW EXECUTE FUNCTION huren_status_position_fixed('copy');
