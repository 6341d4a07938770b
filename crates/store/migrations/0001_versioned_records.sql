-- Append-only history: every table keeps (id, version) and rows are only ever
-- inserted. The latest version of an id is its current state; all versions stay
-- readable with the instant they were recorded (RFC 3339, UTC, microseconds, so
-- text order is time order). The same DDL runs on SQLite and PostgreSQL.

CREATE TABLE members (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE generating_units (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX generating_units_member ON generating_units (member_id);

CREATE TABLE load_resources (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX load_resources_member ON load_resources (member_id);

CREATE TABLE market_parameters (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE networks (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE sessions (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

-- id is the declaration key: <session>:<kind>:<subject>.
CREATE TABLE declarations (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    session_id  TEXT    NOT NULL,
    member_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX declarations_session_member ON declarations (session_id, member_id);
