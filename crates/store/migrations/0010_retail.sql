-- The retail company system (voltex-retail): a retailer member's end
-- customers, their metering points, one month of interval readings per
-- metering point, the price-package catalogue, retail contracts and
-- invoices. Same append-only shape as every other table: a lifecycle step,
-- a corrected reading, a package or contract amendment and a re-rated
-- invoice are new versions; the old ones remain. `member_id` is the
-- retailer that owns the record. Every body names customers, prices,
-- consumption or amounts, so all are encrypted at rest.
CREATE TABLE retail_customers (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX retail_customers_member ON retail_customers (member_id);

CREATE TABLE retail_metering_points (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX retail_metering_points_member ON retail_metering_points (member_id);

-- Keyed `<meter>:<YYYY-MM>`: one month of interval readings with each
-- interval's quality flag and source.
CREATE TABLE retail_meter_months (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX retail_meter_months_member ON retail_meter_months (member_id);

CREATE TABLE retail_packages (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX retail_packages_member ON retail_packages (member_id);

CREATE TABLE retail_contracts (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX retail_contracts_member ON retail_contracts (member_id);

-- Keyed `<customer>:<YYYY-MM>`; a re-rating is a new version.
CREATE TABLE retail_invoices (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    member_id   TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX retail_invoices_member ON retail_invoices (member_id);
