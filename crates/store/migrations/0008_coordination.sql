-- What several replicas on one database must share besides the records
-- (see the store's `coordination` module). Neither table is history: rows
-- are short-lived, updated in place and deleted once expired, and neither
-- holds a price, an amount or personal data beyond a user name or address.
--
-- The nonces of signed requests: the first use of (member, nonce) inserts
-- the row; a second use, on any replica, finds it and is refused.
-- `expires_at` (Unix seconds) is when the nonce may be forgotten because
-- its timestamp is refused anyway.
CREATE TABLE request_nonces (
    member_id   TEXT    NOT NULL,
    nonce       TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    PRIMARY KEY (member_id, nonce)
);
CREATE INDEX request_nonces_expiry ON request_nonces (expires_at);

-- Failed sign-ins per account (`user:<name>`) and address (`addr:<ip>`):
-- the JSON of voltex-security's `LoginThrottle`, until `expires_at`.
CREATE TABLE login_attempts (
    key         TEXT    NOT NULL PRIMARY KEY,
    body        TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX login_attempts_expiry ON login_attempts (expires_at);
