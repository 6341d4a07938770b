-- Accounts: platform and member users (password hash, TOTP secret, role)
-- and their login sessions. Same append-only shape as every other table: a
-- password change, a role change, a used one-time-password step, a session's
-- last use (at most once a minute) and a logout are new versions.
-- `member_id` is '' for platform staff (operator, auditor).
CREATE TABLE users (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX users_member ON users (member_id);

-- Keyed by the SHA-256 of the session token; the token itself is never stored.
CREATE TABLE auth_sessions (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX auth_sessions_member ON auth_sessions (member_id);
