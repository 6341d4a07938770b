-- Customer service (voltex-assist): the FAQ knowledge base and every question
-- asked, both versioned records like every other table. FAQ entries are
-- public help text written from the docs (plain); asked questions are free
-- text users typed, which may hold personal data (encrypted at rest).
CREATE TABLE faq_entries (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE assist_questions (
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);
