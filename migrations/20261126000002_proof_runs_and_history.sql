-- Proof runs recorded by operators and CI, the readiness change history, and a
-- notification on every write so that every server process sharing the database
-- re-reads readiness at once (LISTEN clearance_changes).

CREATE TABLE proof_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    proof_id      text        NOT NULL CHECK (proof_id ~ '^[a-z0-9][a-z0-9-]*$'),
    passed        boolean     NOT NULL,
    ran_at        timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    actor         text        NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 200),
    output_digest text        CHECK (output_digest ~ '^[0-9a-f]{64}$'),
    excerpt       text        NOT NULL DEFAULT '' CHECK (char_length(excerpt) <= 2000)
);

CREATE INDEX proof_runs_latest ON proof_runs (proof_id, ran_at DESC, id DESC);

-- What each snapshot evaluated to, so the next one can be compared with it.
ALTER TABLE readiness_snapshots ADD COLUMN summary jsonb;

CREATE TABLE readiness_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    snapshot_id bigint      NOT NULL REFERENCES readiness_snapshots (id),
    source      text        NOT NULL,
    changed_at  timestamptz NOT NULL,
    kind        text        NOT NULL,
    subject     text,
    change      jsonb       NOT NULL
);

CREATE INDEX readiness_changes_source_latest ON readiness_changes (source, id DESC);

CREATE FUNCTION notify_clearance_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('clearance_changes', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER proof_runs_notify AFTER INSERT ON proof_runs
    FOR EACH ROW EXECUTE FUNCTION notify_clearance_change();
CREATE TRIGGER readiness_snapshots_notify AFTER INSERT ON readiness_snapshots
    FOR EACH ROW EXECUTE FUNCTION notify_clearance_change();
