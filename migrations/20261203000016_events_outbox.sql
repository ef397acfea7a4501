-- Notifications: the catalogue's events, written in the same transaction as the
-- change that causes them (the outbox); the webhook endpoints operators manage;
-- and each event's delivery to each endpoint that wants it.

-- Room states are watched too, so that an acceptance going stale is one event.
ALTER TABLE readiness_watch DROP CONSTRAINT readiness_watch_subject_kind_check;
ALTER TABLE readiness_watch ADD CONSTRAINT readiness_watch_subject_kind_check
    CHECK (subject_kind IN ('proof', 'source', 'room'));

CREATE TABLE events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The stable id receivers deduplicate on (Standard Webhooks' webhook-id).
    event_id      text        NOT NULL UNIQUE
                              DEFAULT ('evt_' || replace(gen_random_uuid()::text, '-', '')),
    type          text        NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    -- Tenant events reach only those allowed to see the tenant.
    tenant_id     bigint      REFERENCES tenants (id) ON DELETE CASCADE,
    motion        text,
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    -- Where on the site the event is seen; links are built from the public URL
    -- when the event is sent.
    path          text        NOT NULL CHECK (path LIKE '/%' AND char_length(path) <= 300),
    -- Names, ids, statuses: never a dependency value.
    data          jsonb       NOT NULL,
    -- Set once the event's deliveries have been queued.
    fanned_out_at timestamptz
);

CREATE INDEX events_awaiting_fanout ON events (id) WHERE fanned_out_at IS NULL;
CREATE INDEX events_by_tenant ON events (tenant_id, id DESC);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_read ON events FOR SELECT
    USING (tenant_id IS NULL OR clearance_sees_tenant(tenant_id));
CREATE POLICY events_append ON events FOR INSERT
    WITH CHECK (tenant_id IS NULL OR clearance_sees_tenant(tenant_id));
CREATE POLICY events_fan_out ON events FOR UPDATE
    USING (clearance_role() = 'system') WITH CHECK (clearance_role() = 'system');

CREATE TABLE webhook_endpoints (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url              text        NOT NULL CHECK (char_length(url) BETWEEN 8 AND 2000),
    description      text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    -- Empty: every event type, every motion, every tenant.
    event_types      text[]      NOT NULL DEFAULT '{}',
    motions          text[]      NOT NULL DEFAULT '{}',
    tenant_ids       bigint[]    NOT NULL DEFAULT '{}',
    format           text        NOT NULL DEFAULT 'standard'
                                 CHECK (format IN ('standard', 'slack')),
    enabled          boolean     NOT NULL DEFAULT true,
    -- Why the endpoint was disabled by the server (after failing too long).
    disabled_reason  text        CHECK (char_length(disabled_reason) <= 300),
    -- The signing secret (whsec_…), shown once; a rotated-out secret keeps
    -- signing beside the new one until it expires.
    secret           text        NOT NULL,
    previous_secret  text,
    previous_expires_at timestamptz,
    -- Since when every attempt has failed; NULL while deliveries succeed.
    failing_since    timestamptz,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id     bigint      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- pending: to be tried (again) at next_attempt_at; delivered: a 2xx came back;
    -- failed: given up (the endpoint was disabled); an operator may redeliver.
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A process sending it holds it until then; after a crash another takes it.
    leased_until    timestamptz,
    last_attempt_at timestamptz,
    last_error      text        CHECK (char_length(last_error) <= 500),
    response_code   integer,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, endpoint_id)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, id DESC);
