-- Launch rooms: the motion each tenant pursues and its billing route, the customer
-- evidence attached to its gates, its signed launch acceptance, and per-account API
-- tokens.
--
-- Evidence changes and acceptance records are append-only hash chains, one of each
-- per tenant: every row holds the digest of the row before it (`prev_digest`) and
-- its own (`digest`, SHA-256 over a canonical encoding the server computes).
-- `ledger_heads` records where each chain ends, so a cut-off tail is caught too;
-- appending locks the head row, so concurrent appends never fork a chain.

ALTER TABLE tenants
    -- Empty until an operator chooses a motion for a tenant made before this.
    ADD COLUMN motion text NOT NULL DEFAULT ''
        CHECK (motion = '' OR motion ~ '^[a-z0-9][a-z0-9-]{0,199}$'),
    ADD COLUMN billing_route text NOT NULL DEFAULT 'invoice_only'
        CHECK (billing_route IN ('invoice_only', 'stripe_ready'));

CREATE TABLE evidence_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES tenants (id),
    seq         integer     NOT NULL CHECK (seq >= 1),
    action      text        NOT NULL CHECK (action IN ('attached', 'detached')),
    gate_id     text        NOT NULL CHECK (char_length(gate_id) BETWEEN 1 AND 200),
    item        text        NOT NULL CHECK (char_length(item) BETWEEN 1 AND 1000),
    reference   text        NOT NULL CHECK (char_length(reference) <= 500),
    note        text        NOT NULL CHECK (char_length(note) <= 2000),
    account_id  bigint      REFERENCES accounts (id),
    actor       text        NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 300),
    at          timestamptz NOT NULL,
    prev_digest text        NOT NULL CHECK (prev_digest ~ '^[0-9a-f]{64}$'),
    digest      text        NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    UNIQUE (tenant_id, seq)
);

CREATE TABLE acceptance_records (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          bigint      NOT NULL REFERENCES tenants (id),
    seq                integer     NOT NULL CHECK (seq >= 1),
    kind               text        NOT NULL CHECK (kind IN ('accepted', 'revoked')),
    motion             text        NOT NULL CHECK (char_length(motion) BETWEEN 1 AND 200),
    signer_name        text        NOT NULL CHECK (char_length(signer_name) BETWEEN 1 AND 200),
    signer_role        text        NOT NULL CHECK (char_length(signer_role) BETWEEN 1 AND 200),
    approval_reference text        NOT NULL CHECK (char_length(approval_reference) <= 200),
    exclusions         text[]      NOT NULL,
    residual_risks     text        NOT NULL CHECK (char_length(residual_risks) <= 4000),
    -- The readiness inputs the signer reviewed, and their digest.
    readiness_digest   text        NOT NULL CHECK (readiness_digest ~ '^[0-9a-f]{64}$'),
    readiness_inputs   jsonb       NOT NULL,
    open_blockers      text[]      NOT NULL,
    account_id         bigint      REFERENCES accounts (id),
    actor              text        NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 300),
    signed_at          timestamptz NOT NULL,
    prev_digest        text        NOT NULL CHECK (prev_digest ~ '^[0-9a-f]{64}$'),
    digest             text        NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    UNIQUE (tenant_id, seq)
);

CREATE TABLE ledger_heads (
    tenant_id bigint  NOT NULL REFERENCES tenants (id),
    ledger    text    NOT NULL CHECK (ledger IN ('evidence', 'acceptance')),
    seq       integer NOT NULL CHECK (seq >= 0),
    digest    text    NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (tenant_id, ledger)
);

CREATE TRIGGER evidence_changes_append_only BEFORE UPDATE OR DELETE ON evidence_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER evidence_changes_no_truncate BEFORE TRUNCATE ON evidence_changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER acceptance_records_append_only BEFORE UPDATE OR DELETE ON acceptance_records
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER acceptance_records_no_truncate BEFORE TRUNCATE ON acceptance_records
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_events_no_truncate BEFORE TRUNCATE ON access_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Reading follows the tenant; operators attach evidence; only the tenant's own
-- buyer sponsor signs or revokes its acceptance.
ALTER TABLE evidence_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY evidence_changes_read ON evidence_changes FOR SELECT
    USING (clearance_sees_tenant(tenant_id));
CREATE POLICY evidence_changes_append ON evidence_changes FOR INSERT
    WITH CHECK (clearance_changes_tenants());

CREATE FUNCTION clearance_signs_for(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT clearance_role() = 'system'
        OR (clearance_role() = 'buyer_sponsor'
            AND tenant::text = current_setting('clearance.tenant_id', true))
$$;

ALTER TABLE acceptance_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE acceptance_records FORCE ROW LEVEL SECURITY;
CREATE POLICY acceptance_records_read ON acceptance_records FOR SELECT
    USING (clearance_sees_tenant(tenant_id));
CREATE POLICY acceptance_records_append ON acceptance_records FOR INSERT
    WITH CHECK (clearance_signs_for(tenant_id));

ALTER TABLE ledger_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY ledger_heads_read ON ledger_heads FOR SELECT
    USING (clearance_sees_tenant(tenant_id));
CREATE POLICY ledger_heads_advance ON ledger_heads FOR ALL
    USING (CASE ledger WHEN 'evidence' THEN clearance_changes_tenants()
                       ELSE clearance_signs_for(tenant_id) END)
    WITH CHECK (CASE ledger WHEN 'evidence' THEN clearance_changes_tenants()
                            ELSE clearance_signs_for(tenant_id) END);

-- Bearer tokens for the JSON API, one account each; only the SHA-256 is stored.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    label        text        NOT NULL CHECK (char_length(label) BETWEEN 1 AND 100),
    token_hash   text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE INDEX api_tokens_account ON api_tokens (account_id);
