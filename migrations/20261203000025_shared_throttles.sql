-- The sign-in, invitation-link and bearer-token throttles, shared by every server
-- on the database (docs/security.md#sign-in-throttling): five wrong passwords for
-- one account are five whichever servers they reach. One row per limiter and key
-- holds the generic cell rate algorithm's theoretical arrival time; a row whose
-- time has passed has its whole allowance back and is deleted by any server.
CREATE TABLE throttle_buckets (
    limiter text        NOT NULL CHECK (limiter IN ('account', 'address', 'invitation', 'bearer')),
    key     text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 320),
    tat     timestamptz NOT NULL,
    PRIMARY KEY (limiter, key)
);
CREATE INDEX throttle_buckets_expiry ON throttle_buckets (tat);

-- Counting changes rows: the serving role updates and deletes its own counters
-- (no ledger is involved).
GRANT SELECT, INSERT, UPDATE, DELETE ON throttle_buckets TO clearance_server;
