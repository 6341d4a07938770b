-- The reference the review screen compares a new energy offer with: per
-- member, declaration kind and subject, the last version that counts (its
-- key, version, when it was submitted and its quantity-weighted mean price).
-- A new version is appended, in the same transaction as the declaration,
-- whenever a version starts to count, so screening reads one row instead of
-- decrypting and parsing the subject's history.
CREATE TABLE offer_references (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX offer_references_member ON offer_references (member_id);
