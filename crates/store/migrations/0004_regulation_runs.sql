-- Clearing runs of the frequency- and peak-regulation markets (merit-order
-- auctions), versioned like the energy clearing runs.
CREATE TABLE regulation_runs (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
