-- The audit log: one row per audited action, chained by hash. The store keeps
-- rows exactly as the caller built them; `voltex-security` computes `hash` over
-- the whole record and `voltex audit verify` recomputes the chain from `body`
-- (the record's JSON, the only field the hash covers as a whole). The other
-- columns repeat fields of `body` for queries and listings; verification
-- refuses a row whose columns disagree with its body.
--
-- Append-only by convention: the application only ever inserts, the next `seq`
-- under a write lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL advisory lock).
-- A production deployment should also enforce it for the application role:
--     REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM voltex_app;
-- and keep sealed checkpoints of the chain head outside the database, since
-- removing rows from the end leaves a valid, shorter chain.

CREATE TABLE audit_log (
    seq       BIGINT  NOT NULL PRIMARY KEY,
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    body      TEXT    NOT NULL
);
