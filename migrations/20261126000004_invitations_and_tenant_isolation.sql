-- Buyer sponsors join by invitation, and PostgreSQL itself keeps tenants apart:
-- row-level security on every tenant-scoped table, driven by two settings the app
-- sets per transaction (`clearance.role`, `clearance.tenant_id`). A query that
-- forgets its tenant filter still sees only what the role may see.

CREATE TABLE invitations (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint      NOT NULL REFERENCES tenants (id),
    email      text        NOT NULL
               CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254
                      AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    -- SHA-256 of the token; the token itself is shown once and never stored.
    token_hash text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_by bigint      REFERENCES accounts (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    bigint      REFERENCES accounts (id),
    revoked_at timestamptz,
    CHECK (expires_at > created_at),
    CHECK (used_at IS NULL OR revoked_at IS NULL)
);

CREATE FUNCTION clearance_role() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('clearance.role', true), '')
$$;

-- Operators and commercial owners see every tenant; a buyer sponsor only their own;
-- `system` is the server acting for nobody in particular (sign-in, the command line).
CREATE FUNCTION clearance_sees_tenant(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT clearance_role() IN ('operator', 'commercial_owner', 'system')
        OR (clearance_role() = 'buyer_sponsor'
            AND tenant::text = current_setting('clearance.tenant_id', true))
$$;

CREATE FUNCTION clearance_changes_tenants() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT clearance_role() IN ('operator', 'system')
$$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_read ON tenants FOR SELECT USING (clearance_sees_tenant(id));
CREATE POLICY tenants_change ON tenants FOR ALL
    USING (clearance_changes_tenants()) WITH CHECK (clearance_changes_tenants());

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY invitations_read ON invitations FOR SELECT
    USING (clearance_role() IN ('operator', 'commercial_owner', 'system'));
CREATE POLICY invitations_change ON invitations FOR ALL
    USING (clearance_changes_tenants()) WITH CHECK (clearance_changes_tenants());
