-- Signed declarations: for each declaration version submitted with a member
-- signature, the signed envelope, its SHA-256, the signature, the member
-- certificate serial and the receipt the platform sealed. The id is
-- `<declaration key>#<version>`; same append-only shape as the other tables
-- (a record is written once and never updated).
CREATE TABLE declaration_signatures (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX declaration_signatures_member ON declaration_signatures (member_id);
