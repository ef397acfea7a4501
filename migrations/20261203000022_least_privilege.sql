-- Least privilege. The role that runs these migrations owns every table; the
-- server serves as a login role in the group `clearance_server`, which may read
-- and append to the ledgers (acceptance records, evidence changes, the access
-- log) and nothing more there: PostgreSQL itself refuses it UPDATE, DELETE and
-- TRUNCATE on them, ALTER TABLE, and creating, dropping or disabling a trigger
-- (only an owner may). Every other table gets the least the server's queries
-- need (server/src), table by table. See docs/security.md, "Database roles".
--
-- The group role is cluster-wide. A DBA may create it beforehand (then the
-- owner needs no CREATEROLE); otherwise the owner creates it here. Many test
-- databases migrate at once in one cluster, so a concurrent creation is
-- tolerated.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'clearance_server') THEN
        BEGIN
            CREATE ROLE clearance_server NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'the role clearance_server does not exist and % may not create it: '
                                'create it as a superuser (CREATE ROLE clearance_server NOLOGIN) '
                                'or give % CREATEROLE (docs/operations.md)',
                    current_user, current_user;
        END;
    END IF;
END
$$;

-- Access-log bursts ------------------------------------------------------------------

-- A burst of identical refusals was one access_events row whose count, time of
-- the latest and several-addresses flag the server updated. The serving role
-- may not update a ledger, so those three move to a table of their own, and
-- access_events is strictly append-only again.
CREATE TABLE access_event_repeats (
    event_id          bigint      PRIMARY KEY REFERENCES access_events (id),
    -- How many times the event happened in its burst, the first included.
    count             integer     NOT NULL CHECK (count >= 2),
    last_at           timestamptz NOT NULL,
    several_addresses boolean     NOT NULL DEFAULT false
);

INSERT INTO access_event_repeats (event_id, count, last_at, several_addresses)
SELECT id, count, coalesce(last_at, at), several_addresses
FROM access_events
WHERE count > 1;

-- A repeat only counts up, and only ever says "several addresses" once it has.
CREATE FUNCTION access_event_repeats_count_up() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.event_id = OLD.event_id
       AND NEW.count > OLD.count
       AND NEW.last_at >= OLD.last_at
       AND (NOT OLD.several_addresses OR NEW.several_addresses)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% only counts up: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER access_event_repeats_count_up BEFORE UPDATE OR DELETE ON access_event_repeats
    FOR EACH ROW EXECUTE FUNCTION access_event_repeats_count_up();

DROP TRIGGER access_events_append_only ON access_events;
DROP FUNCTION access_events_only_repeats();
ALTER TABLE access_events
    DROP COLUMN count,
    DROP COLUMN last_at,
    DROP COLUMN several_addresses;
CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The access log as it is read: each event with its burst's count.
CREATE VIEW access_log AS
SELECT e.id, e.at, e.account_id, e.actor, e.action, e.subject, e.remote_addr,
       coalesce(r.count, 1) AS count,
       r.last_at,
       coalesce(r.several_addresses, false) AS several_addresses
FROM access_events e
LEFT JOIN access_event_repeats r ON r.event_id = e.id;

-- What the serving role may do --------------------------------------------------------

-- Start from nothing, so that re-running this on a database where the group had
-- more (granted by hand) leaves exactly what is below.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM clearance_server;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM clearance_server;
REVOKE ALL ON SCHEMA tower_sessions FROM clearance_server;
REVOKE ALL ON ALL TABLES IN SCHEMA tower_sessions FROM clearance_server;

GRANT USAGE ON SCHEMA public, tower_sessions TO clearance_server;

-- The ledgers: read and append, nothing else. The signing statement reads the
-- new record's id back with currval, which needs its sequence.
GRANT SELECT, INSERT ON acceptance_records, evidence_changes, access_events TO clearance_server;
GRANT USAGE ON SEQUENCE acceptance_records_id_seq, evidence_changes_id_seq, access_events_id_seq
    TO clearance_server;
-- Where each chain ends: started, then advanced (never removed).
GRANT SELECT, INSERT ON ledger_heads TO clearance_server;
GRANT UPDATE (seq, digest) ON ledger_heads TO clearance_server;
-- Bursts of refusals count up; the access log is read through its view.
GRANT SELECT, INSERT ON access_event_repeats TO clearance_server;
GRANT UPDATE (count, last_at, several_addresses) ON access_event_repeats TO clearance_server;
GRANT SELECT ON access_log TO clearance_server;

-- Accounts and access.
GRANT SELECT, INSERT ON tenants, accounts, invitations, api_tokens TO clearance_server;
GRANT UPDATE (name, motion, billing_route) ON tenants TO clearance_server;
GRANT UPDATE (role, disabled_at) ON accounts TO clearance_server;
GRANT UPDATE (used_at, used_by, revoked_at) ON invitations TO clearance_server;
GRANT UPDATE (revoked_at) ON api_tokens TO clearance_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON tower_sessions.session TO clearance_server;

-- Readiness: history is appended; the watch keeps each subject's latest state.
GRANT SELECT, INSERT ON readiness_snapshots, readiness_changes, proof_runs, readiness_events
    TO clearance_server;
GRANT SELECT, INSERT, UPDATE ON readiness_watch TO clearance_server;
GRANT SELECT, INSERT, UPDATE ON deployments, deployment_reports TO clearance_server;

-- Notifications: events are appended and marked fanned out; deliveries, the
-- endpoints and the mail queue are worked on.
GRANT SELECT, INSERT ON events TO clearance_server;
GRANT UPDATE (fanned_out_at) ON events TO clearance_server;
GRANT SELECT, INSERT, UPDATE ON deliveries, mail_outbox TO clearance_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO clearance_server;
GRANT SELECT, INSERT, DELETE ON mail_subscriptions TO clearance_server;
GRANT SELECT, INSERT ON mail_suppressions TO clearance_server;

-- The server checks at start that the schema is up to date, without migrating.
GRANT SELECT ON _sqlx_migrations TO clearance_server;
