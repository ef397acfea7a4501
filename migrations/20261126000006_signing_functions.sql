-- Signing a launch acceptance in two statements instead of a seven-round-trip
-- transaction: one function reads the room as the signer, the other appends the
-- record only if the room is still what was read. The checks in between stay in
-- Rust (`app::domain::launch_room`), and so does the chain digest.
--
-- Both functions run as the caller (SECURITY INVOKER) and first set the acting role
-- and tenant for the rest of the transaction, exactly as `tenancy::begin` does, so
-- every row they touch passes the same row-level security policies; an INSERT or
-- UPDATE the signer may not make still fails, and the append-only triggers still
-- fire. They take the settings as arguments because a single autocommit statement
-- has no earlier statement to set them in.

-- The read hands evidence changes and the head's acceptance record over as these
-- composite values, field for field `EvidenceChange` and `AcceptanceRecord`: they
-- travel in binary, where building and parsing JSON cost more than the rest of the
-- read.
CREATE TYPE evidence_change_row AS (
    id          bigint,
    tenant_id   bigint,
    seq         integer,
    action      text,
    gate_id     text,
    item        text,
    reference   text,
    note        text,
    actor       text,
    at          timestamptz,
    prev_digest text,
    digest      text
);

CREATE TYPE acceptance_record_row AS (
    id                 bigint,
    tenant_id          bigint,
    seq                integer,
    kind               text,
    motion             text,
    signer_name        text,
    signer_role        text,
    approval_reference text,
    exclusions         text[],
    residual_risks     text,
    readiness_digest   text,
    readiness_inputs   jsonb,
    open_blockers      text[],
    actor              text,
    signed_at          timestamptz,
    prev_digest        text,
    digest             text
);

-- The room as `acting_role` sees it: the tenant, where its acceptance chain ends
-- (NULL: no head yet), how long its evidence chain is, every evidence change in
-- chain order, and the acceptance record at the head. No row when the tenant is not
-- visible.
--
-- One SQL statement, so one snapshot: the heads, the evidence and the head record
-- agree with each other even while others append.
CREATE FUNCTION clearance_signing_room(acting_role text, acting_tenant text, room bigint)
RETURNS TABLE (
    id            bigint,
    slug          text,
    name          text,
    motion        text,
    billing_route text,
    created_at    timestamptz,
    head_seq      integer,
    head_digest   text,
    evidence_seq  integer,
    evidence      evidence_change_row[],
    latest        acceptance_record_row
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('clearance.role', acting_role, true),
            set_config('clearance.tenant_id', acting_tenant, true);
    RETURN QUERY
    SELECT t.id, t.slug, t.name, t.motion, t.billing_route, t.created_at,
           a.seq, a.digest, e.seq,
           coalesce((SELECT array_agg(ROW(c.id, c.tenant_id, c.seq, c.action, c.gate_id,
                                          c.item, c.reference, c.note, c.actor, c.at,
                                          c.prev_digest, c.digest)::evidence_change_row
                                      ORDER BY c.seq)
                     FROM evidence_changes c WHERE c.tenant_id = t.id),
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

-- Appends one acceptance record that was checked against a room read earlier:
-- `evidence_seen` and the record's motion are what the check saw, and its seq and
-- prev_digest say which head it follows. Returns the new row's id, or NULL (and
-- changes nothing) when any of that has moved on, for the caller to read again.
--
-- The head only advances from exactly (seq - 1, prev_digest): a concurrent append
-- to the same chain waits on the head's row lock and then finds the head moved, so
-- the chain cannot fork. As before, evidence changed after the check but before
-- commit is not seen: evidence appends lock their own head, not this one.
CREATE FUNCTION clearance_append_acceptance(
    acting_role        text,
    acting_tenant      text,
    evidence_seen      integer,
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
    PERFORM set_config('clearance.role', acting_role, true),
            set_config('clearance.tenant_id', acting_tenant, true);
    PERFORM FROM tenants t
        LEFT JOIN ledger_heads e ON e.tenant_id = t.id AND e.ledger = 'evidence'
        WHERE t.id = record_tenant AND t.motion = record_motion
          AND coalesce(e.seq, 0) = evidence_seen;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF record_seq = 1 THEN
        -- The first record: the head may not exist yet, or sit at genesis.
        INSERT INTO ledger_heads AS h (tenant_id, ledger, seq, digest)
        VALUES (record_tenant, 'acceptance', 1, record_digest)
        ON CONFLICT (tenant_id, ledger) DO UPDATE
            SET seq = 1, digest = record_digest
            WHERE h.seq = 0 AND h.digest = prev_digest;
    ELSE
        UPDATE ledger_heads h SET seq = record_seq, digest = record_digest
        WHERE h.tenant_id = record_tenant AND h.ledger = 'acceptance'
          AND h.seq = record_seq - 1 AND h.digest = prev_digest;
    END IF;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO acceptance_records AS r
        (tenant_id, seq, kind, motion, signer_name, signer_role, approval_reference,
         exclusions, residual_risks, readiness_digest, readiness_inputs, open_blockers,
         account_id, actor, signed_at, prev_digest, digest)
    VALUES (record_tenant, record_seq, record_kind, record_motion, signer_name, signer_role,
            approval_reference, exclusions, residual_risks, readiness_digest,
            readiness_inputs, open_blockers, account, actor, signed_at, prev_digest,
            record_digest)
    RETURNING r.id INTO appended;
    RETURN appended;
END
$$;
