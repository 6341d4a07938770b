-- The operator's day after declarations: gate-closure snapshots, held
-- declarations and their review, member notifications, clearing runs,
-- publications, metered load and settlement statements. Same append-only
-- shape as 0001: (id, version) is the key, a new version supersedes and every
-- version stays readable. `member_id` is the owning member (for publications:
-- the audience, '*public' or '*members' for the shared items).

CREATE TABLE gate_closures (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE declaration_reviews (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX declaration_reviews_member ON declaration_reviews (member_id);

CREATE TABLE notifications (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX notifications_member ON notifications (member_id);

CREATE TABLE clearing_runs (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE publications (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX publications_audience ON publications (member_id);

CREATE TABLE metered_loads (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE statements (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX statements_member ON statements (member_id);

-- Review and default rules look up a member's history of one unit's offers.
CREATE INDEX declarations_member_subject ON declarations (member_id, kind, subject);
