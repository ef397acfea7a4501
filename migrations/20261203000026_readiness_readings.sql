-- The newest reading of each readiness source (its dependencies, public checks,
-- staleness and the register's health checks), written by the one server of a set
-- that reads the source and runs the checks; every other server follows it
-- (server/src/readiness/lead.rs, docs/operations.md#several-servers).
CREATE TABLE readiness_readings (
    source  text        PRIMARY KEY CHECK (char_length(source) BETWEEN 1 AND 2048),
    reading jsonb       NOT NULL,
    read_at timestamptz NOT NULL
);

-- Not a ledger: the reading is replaced at every poll.
GRANT SELECT, INSERT, UPDATE ON readiness_readings TO clearance_server;
