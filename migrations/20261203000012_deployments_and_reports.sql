-- Deployments that report their own readiness (`server report`), each with one
-- reporter token scoped to it (only its SHA-256 is kept), and the latest report of
-- each. The history of what a deployment reported is the readiness snapshots'
-- (source `deployment:NAME`): a report only replaces the one before it.
CREATE TABLE deployments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    token_hash text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Names and verdicts only: `dependencies` maps a declared name to its state,
-- `checks` holds each HTTP check's name, URL (no credentials, no query), verdict,
-- status code and latency. Never a value, never a response body.
CREATE TABLE deployment_reports (
    deployment_id bigint      PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
    received_at   timestamptz NOT NULL DEFAULT now(),
    dependencies  jsonb       NOT NULL CHECK (jsonb_typeof(dependencies) = 'object'),
    checks        jsonb       NOT NULL CHECK (jsonb_typeof(checks) = 'array')
);

CREATE TRIGGER deployment_reports_notify AFTER INSERT OR UPDATE ON deployment_reports
    FOR EACH ROW EXECUTE FUNCTION notify_clearance_change();
