-- Signing in one statement on the common path. The server keeps, per tenant, the
-- room it last read or signed for (`server/src/rooms/snapshots.rs`) and appends
-- against it straight away; the append below is what makes that safe: it writes
-- only if the acceptance chain's head, the tenant's motion and the evidence
-- chain's head (its length and, new here, its digest) are exactly what the record
-- was checked against, whoever changed them, on whichever server. When anything
-- moved it writes nothing and the server reads the room again.
--
-- The row checks on the three chain tables are the same rules as before, each
-- table's in one CHECK constraint over one function. PostgreSQL parses and plans
-- every CHECK expression of a table anew for each INSERT or UPDATE statement,
-- which for eleven constraints cost more than the row itself; a PL/pgSQL function
-- keeps its compiled form for the session. The hex-digest rule no longer uses
-- `{64}`, whose bounded repetition made each match cost about 9 µs: the digest is
-- 64 bytes, all of them lower-case hex digits, which is the same set of strings.
--
-- An acceptance record's two foreign keys (tenant, account) become one, to the
-- signer's account within the record's tenant: one check per append instead of
-- two, and a stricter rule.
--
-- The write policies on `tenants` and `ledger_heads` are split by command instead
-- of one FOR ALL policy each, so that reads no longer carry them: see below why
-- every role sees and may change exactly the rows it could before.

-- Row checks ------------------------------------------------------------------------

CREATE FUNCTION clearance_acceptance_record_valid(
    seq                integer,
    kind               text,
    motion             text,
    signer_name        text,
    signer_role        text,
    approval_reference text,
    residual_risks     text,
    readiness_digest   text,
    actor              text,
    prev_digest        text,
    digest             text
) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN seq >= 1
        AND kind IN ('accepted', 'revoked')
        AND char_length(motion) BETWEEN 1 AND 200
        AND char_length(signer_name) BETWEEN 1 AND 200
        AND char_length(signer_role) BETWEEN 1 AND 200
        AND char_length(approval_reference) <= 200
        AND char_length(residual_risks) <= 4000
        AND octet_length(readiness_digest) = 64 AND readiness_digest ~ '^[0-9a-f]+$'
        AND char_length(actor) BETWEEN 1 AND 300
        AND octet_length(prev_digest) = 64 AND prev_digest ~ '^[0-9a-f]+$'
        AND octet_length(digest) = 64 AND digest ~ '^[0-9a-f]+$';
END
$$;

CREATE FUNCTION clearance_evidence_change_valid(
    seq         integer,
    action      text,
    gate_id     text,
    item        text,
    reference   text,
    note        text,
    actor       text,
    prev_digest text,
    digest      text
) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN seq >= 1
        AND action IN ('attached', 'detached')
        AND char_length(gate_id) BETWEEN 1 AND 200
        AND char_length(item) BETWEEN 1 AND 1000
        AND char_length(reference) <= 500
        AND char_length(note) <= 2000
        AND char_length(actor) BETWEEN 1 AND 300
        AND octet_length(prev_digest) = 64 AND prev_digest ~ '^[0-9a-f]+$'
        AND octet_length(digest) = 64 AND digest ~ '^[0-9a-f]+$';
END
$$;

CREATE FUNCTION clearance_ledger_head_valid(ledger text, seq integer, digest text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ledger IN ('evidence', 'acceptance')
        AND seq >= 0
        AND octet_length(digest) = 64 AND digest ~ '^[0-9a-f]+$';
END
$$;

-- The new constraints are checked against every row already stored.
ALTER TABLE acceptance_records
    DROP CONSTRAINT acceptance_records_seq_check,
    DROP CONSTRAINT acceptance_records_kind_check,
    DROP CONSTRAINT acceptance_records_motion_check,
    DROP CONSTRAINT acceptance_records_signer_name_check,
    DROP CONSTRAINT acceptance_records_signer_role_check,
    DROP CONSTRAINT acceptance_records_approval_reference_check,
    DROP CONSTRAINT acceptance_records_residual_risks_check,
    DROP CONSTRAINT acceptance_records_readiness_digest_check,
    DROP CONSTRAINT acceptance_records_actor_check,
    DROP CONSTRAINT acceptance_records_prev_digest_check,
    DROP CONSTRAINT acceptance_records_digest_check,
    ADD CONSTRAINT acceptance_records_valid CHECK (clearance_acceptance_record_valid(
        seq, kind, motion, signer_name, signer_role, approval_reference, residual_risks,
        readiness_digest, actor, prev_digest, digest));

ALTER TABLE evidence_changes
    DROP CONSTRAINT evidence_changes_seq_check,
    DROP CONSTRAINT evidence_changes_action_check,
    DROP CONSTRAINT evidence_changes_gate_id_check,
    DROP CONSTRAINT evidence_changes_item_check,
    DROP CONSTRAINT evidence_changes_reference_check,
    DROP CONSTRAINT evidence_changes_note_check,
    DROP CONSTRAINT evidence_changes_actor_check,
    DROP CONSTRAINT evidence_changes_prev_digest_check,
    DROP CONSTRAINT evidence_changes_digest_check,
    ADD CONSTRAINT evidence_changes_valid CHECK (clearance_evidence_change_valid(
        seq, action, gate_id, item, reference, note, actor, prev_digest, digest));

ALTER TABLE ledger_heads
    DROP CONSTRAINT ledger_heads_ledger_check,
    DROP CONSTRAINT ledger_heads_seq_check,
    DROP CONSTRAINT ledger_heads_digest_check,
    ADD CONSTRAINT ledger_heads_valid CHECK (clearance_ledger_head_valid(ledger, seq, digest));

-- Foreign keys ------------------------------------------------------------------------

-- An acceptance record named its tenant and its signer's account in two foreign
-- keys, each checked (and its row locked) by a query of its own on every append.
-- One key to the signer's account within the record's tenant says more with one
-- check: the account exists, it belongs to that tenant (only the tenant's own
-- buyer sponsor signs, and a sponsor's tenant never changes), and through the
-- account's own key the tenant exists. Every record the server has written
-- names its signer's account, so the column is now NOT NULL as well; an account
-- or tenant with records still cannot be deleted.
ALTER TABLE accounts ADD CONSTRAINT accounts_id_tenant_id_key UNIQUE (id, tenant_id);
ALTER TABLE acceptance_records
    ALTER COLUMN account_id SET NOT NULL,
    DROP CONSTRAINT acceptance_records_tenant_id_fkey,
    DROP CONSTRAINT acceptance_records_account_id_fkey,
    ADD CONSTRAINT acceptance_records_signer_fkey FOREIGN KEY (account_id, tenant_id)
        REFERENCES accounts (id, tenant_id);

-- Row-level security ------------------------------------------------------------------

-- A FOR ALL policy is also a SELECT policy, so until now every read of `tenants`
-- and `ledger_heads` (the signing append reads both, and an UPDATE reads the rows
-- it changes) evaluated `read OR change`. Each change policy implies its table's
-- read policy, so `read OR change` is `read`:
--   tenants:      clearance_changes_tenants() is role IN (operator, system), which
--                 clearance_sees_tenant() lets see every tenant;
--   ledger_heads: an evidence head may be changed by operator or system, who see
--                 every tenant; any other head by system or the tenant's own buyer
--                 sponsor (clearance_signs_for), who sees its own tenant.
-- The same expressions now guard INSERT, UPDATE and DELETE one policy each, as the
-- FOR ALL policy did, and reads go through the read policy alone: the same rows
-- for every role, as a cheaper expression.
DROP POLICY tenants_change ON tenants;
CREATE POLICY tenants_create ON tenants FOR INSERT
    WITH CHECK (clearance_changes_tenants());
CREATE POLICY tenants_change ON tenants FOR UPDATE
    USING (clearance_changes_tenants()) WITH CHECK (clearance_changes_tenants());
CREATE POLICY tenants_remove ON tenants FOR DELETE
    USING (clearance_changes_tenants());

DROP POLICY ledger_heads_advance ON ledger_heads;
CREATE POLICY ledger_heads_start ON ledger_heads FOR INSERT
    WITH CHECK (CASE ledger WHEN 'evidence' THEN clearance_changes_tenants()
                            ELSE clearance_signs_for(tenant_id) END);
CREATE POLICY ledger_heads_advance ON ledger_heads FOR UPDATE
    USING (CASE ledger WHEN 'evidence' THEN clearance_changes_tenants()
                       ELSE clearance_signs_for(tenant_id) END)
    WITH CHECK (CASE ledger WHEN 'evidence' THEN clearance_changes_tenants()
                            ELSE clearance_signs_for(tenant_id) END);
CREATE POLICY ledger_heads_remove ON ledger_heads FOR DELETE
    USING (CASE ledger WHEN 'evidence' THEN clearance_changes_tenants()
                       ELSE clearance_signs_for(tenant_id) END);

-- The signing read ----------------------------------------------------------------

-- As in migration 6, plus the evidence head's digest; and of the evidence only the
-- changes in force (each still-attached item's newest change, in chain order),
-- which is what the room's state is worked out from, however long the chain grows.
DROP FUNCTION clearance_signing_room(text, text, bigint);
CREATE FUNCTION clearance_signing_room(acting_role text, acting_tenant text, room bigint)
RETURNS TABLE (
    id              bigint,
    slug            text,
    name            text,
    motion          text,
    billing_route   text,
    created_at      timestamptz,
    head_seq        integer,
    head_digest     text,
    evidence_seq    integer,
    evidence_digest text,
    evidence        evidence_change_row[],
    latest          acceptance_record_row
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('clearance.role', acting_role, true),
            set_config('clearance.tenant_id', acting_tenant, true);
    RETURN QUERY
    SELECT t.id, t.slug, t.name, t.motion, t.billing_route, t.created_at,
           a.seq, a.digest, e.seq, e.digest,
           coalesce((SELECT array_agg(ROW(c.id, c.tenant_id, c.seq, c.action, c.gate_id,
                                          c.item, c.reference, c.note, c.actor, c.at,
                                          c.prev_digest, c.digest)::evidence_change_row
                                      ORDER BY c.seq)
                     FROM (SELECT DISTINCT ON (n.gate_id, n.item) n.*
                           FROM evidence_changes n WHERE n.tenant_id = t.id
                           ORDER BY n.gate_id, n.item, n.seq DESC) AS c
                     WHERE c.action = 'attached'),
                    '{}'),
           (SELECT ROW(r.id, r.tenant_id, r.seq, r.kind, r.motion, r.signer_name,
                       r.signer_role, r.approval_reference, r.exclusions, r.residual_risks,
                       r.readiness_digest, r.readiness_inputs, r.open_blockers, r.actor,
                       r.signed_at, r.prev_digest, r.digest)::acceptance_record_row
            FROM acceptance_records r WHERE r.tenant_id = t.id AND r.seq = a.seq)
    FROM tenants t
    LEFT JOIN ledger_heads a ON a.tenant_id = t.id AND a.ledger = 'acceptance'
    LEFT JOIN ledger_heads e ON e.tenant_id = t.id AND e.ledger = 'evidence'
    WHERE t.id = room;
END
$$;

-- The append ------------------------------------------------------------------------

-- Appends one acceptance record checked against a room read earlier, or kept from
-- an earlier signature: `evidence_seq` and `evidence_digest` say where the evidence
-- chain ended (0 and the genesis digest: no evidence yet), the record's motion is
-- the motion it was checked against, and its seq and prev_digest say which head it
-- follows. Returns the new row's id, or NULL (and changes nothing) when any of that
-- has moved on, for the caller to read the room again.
--
-- The head only advances from exactly (seq - 1, prev_digest): a concurrent append
-- to the same chain waits on the head's row lock and then finds the head moved, so
-- the chain cannot fork. As before, evidence changed after the check but before
-- commit is not seen: evidence appends lock their own head, not this one.
--
-- After the first record, moving the head and inserting the record are one SQL
-- statement: the insert takes its row from the head's update, so it happens only
-- when the head moved. The first record is rare enough to keep the plainer steps.
DROP FUNCTION clearance_append_acceptance(
    text, text, integer, bigint, integer, text, text, text, text, text, text[], text, text,
    jsonb, text[], bigint, text, timestamptz, text, text);
CREATE FUNCTION clearance_append_acceptance(
    acting_role        text,
    acting_tenant      text,
    evidence_seq       integer,
    evidence_digest    text,
    record_tenant      bigint,
    record_seq         integer,
    record_kind        text,
    record_motion      text,
    signer_name        text,
    signer_role        text,
    approval_reference text,
    exclusions         text[],
    residual_risks     text,
    readiness_digest   text,
    readiness_inputs   jsonb,
    open_blockers      text[],
    account            bigint,
    actor              text,
    signed_at          timestamptz,
    prev_digest        text,
    record_digest      text
) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    appended bigint;
BEGIN
    -- Assignments, not PERFORM: PL/pgSQL evaluates them as plain expressions,
    -- without starting an executor for a query.
    acting_role := set_config('clearance.role', acting_role, true);
    acting_tenant := set_config('clearance.tenant_id', acting_tenant, true);
    IF record_seq = 1 THEN
        -- The first record: the head may not exist yet, or sit at genesis.
        PERFORM FROM tenants t
            LEFT JOIN ledger_heads e ON e.tenant_id = t.id AND e.ledger = 'evidence'
            WHERE t.id = record_tenant AND t.motion = record_motion
              AND coalesce(e.seq, 0) = evidence_seq
              AND coalesce(e.digest, repeat('0', 64)) = evidence_digest;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        INSERT INTO ledger_heads AS h (tenant_id, ledger, seq, digest)
        VALUES (record_tenant, 'acceptance', 1, record_digest)
        ON CONFLICT (tenant_id, ledger) DO UPDATE
            SET seq = 1, digest = record_digest
            WHERE h.seq = 0 AND h.digest = prev_digest;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        INSERT INTO acceptance_records AS r
            (tenant_id, seq, kind, motion, signer_name, signer_role, approval_reference,
             exclusions, residual_risks, readiness_digest, readiness_inputs, open_blockers,
             account_id, actor, signed_at, prev_digest, digest)
        VALUES (record_tenant, record_seq, record_kind, record_motion, signer_name,
                signer_role, approval_reference, exclusions, residual_risks, readiness_digest,
                readiness_inputs, open_blockers, account, actor, signed_at, prev_digest,
                record_digest)
        RETURNING r.id INTO appended;
        RETURN appended;
    END IF;
    WITH moved AS (
        UPDATE ledger_heads h SET seq = record_seq, digest = record_digest
        WHERE h.tenant_id = record_tenant AND h.ledger = 'acceptance'
          AND h.seq = record_seq - 1 AND h.digest = prev_digest
          AND EXISTS (SELECT FROM tenants t
                      LEFT JOIN ledger_heads e ON e.tenant_id = t.id AND e.ledger = 'evidence'
                      WHERE t.id = record_tenant AND t.motion = record_motion
                        AND coalesce(e.seq, 0) = evidence_seq
                        AND coalesce(e.digest, repeat('0', 64)) = evidence_digest)
        RETURNING h.tenant_id
    )
    INSERT INTO acceptance_records AS r
        (tenant_id, seq, kind, motion, signer_name, signer_role, approval_reference,
         exclusions, residual_risks, readiness_digest, readiness_inputs, open_blockers,
         account_id, actor, signed_at, prev_digest, digest)
    SELECT moved.tenant_id, record_seq, record_kind, record_motion, signer_name, signer_role,
           approval_reference, exclusions, residual_risks, readiness_digest, readiness_inputs,
           open_blockers, account, actor, signed_at, prev_digest, record_digest
    FROM moved;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- The id this session just drew for the row, read back without RETURNING,
    -- which would check the new row against the read policy as well.
    RETURN currval('acceptance_records_id_seq');
END
$$;
