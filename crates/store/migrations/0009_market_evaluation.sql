-- Market evaluation and surveillance (voltex-market `evaluation`), three
-- tables of versioned records like every other: the operator's cost-based
-- reference level of each unit, the outage notices that excuse declared
-- capacity below the registered one, and the market monitor's alerts with
-- their evidence (offers, reference, re-clear prices). All three quote
-- costs, offers or availability, so their bodies are encrypted at rest.
CREATE TABLE reference_levels (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX reference_levels_member ON reference_levels (member_id);

CREATE TABLE outage_notices (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX outage_notices_member ON outage_notices (member_id);

CREATE TABLE market_alerts (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX market_alerts_member ON market_alerts (member_id);
