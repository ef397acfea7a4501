-- Every computed readiness state that differs from the last one seen from the same
-- source. The newest row per source tells when the current state was first seen.
CREATE TABLE readiness_snapshots (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text        NOT NULL CHECK (source <> ''),
    digest        text        NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    inputs        jsonb       NOT NULL,
    advisory      text        NOT NULL CHECK (advisory IN ('ready', 'degraded', 'not_ready')),
    strict        text        NOT NULL CHECK (strict IN ('ready', 'not_ready')),
    live_blockers integer     NOT NULL CHECK (live_blockers >= 0),
    first_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX readiness_snapshots_source_latest ON readiness_snapshots (source, id DESC);
