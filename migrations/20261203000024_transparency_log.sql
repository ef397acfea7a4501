-- The transparency log (docs/security.md#the-transparency-log): every acceptance
-- record, evidence change and access event is a leaf of one append-only Merkle
-- tree (RFC 6962 hashing), and checkpoints of the tree are signed with a key the
-- database never holds. Rewriting history in the database then disagrees with a
-- checkpoint kept elsewhere.

-- Records written from now on use format 2: their digest covers the account
-- that made them as well. Records of format 1 keep verifying as before.
ALTER TABLE acceptance_records
    ADD COLUMN format smallint NOT NULL DEFAULT 1 CHECK (format IN (1, 2));
ALTER TABLE evidence_changes
    ADD COLUMN format smallint NOT NULL DEFAULT 1 CHECK (format IN (1, 2));

-- Leaves waiting for the sequencer, written in the transaction of the record
-- they stand for. The sequencer takes them in id order, gives each the next
-- index and deletes them: the only table of the log rows leave.
CREATE TABLE log_pending (
    id     bigserial PRIMARY KEY,
    kind   text   NOT NULL CHECK (kind IN ('acceptance', 'evidence', 'access')),
    ref_id bigint NOT NULL,
    leaf   text   NOT NULL CHECK (char_length(leaf) BETWEEN 1 AND 1000)
);

-- The leaves in tree order: `leaf` is the exact text whose RFC 6962 leaf hash
-- is in the tree, `ref_id` the row of the record of `kind` it stands for.
CREATE TABLE log_leaves (
    idx    bigint PRIMARY KEY CHECK (idx >= 0),
    kind   text   NOT NULL CHECK (kind IN ('acceptance', 'evidence', 'access')),
    ref_id bigint NOT NULL,
    leaf   text   NOT NULL CHECK (char_length(leaf) BETWEEN 1 AND 1000),
    UNIQUE (kind, ref_id)
);

-- The tree's stored hashes, numbered as Go's sumdb/tlog numbers them
-- (`StoredHashIndex`): every complete subtree's hash, written once.
CREATE TABLE log_hashes (
    idx  bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea  NOT NULL CHECK (length(hash) = 32)
);

-- Every signed checkpoint: C2SP tlog-checkpoint text signed as a C2SP signed
-- note. The newest is the log's head.
CREATE TABLE log_checkpoints (
    size      bigint      PRIMARY KEY CHECK (size >= 0),
    root      bytea       NOT NULL CHECK (length(root) = 32),
    note      text        NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER log_hashes_append_only BEFORE UPDATE OR DELETE ON log_hashes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER log_hashes_no_truncate BEFORE TRUNCATE ON log_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER log_checkpoints_no_truncate BEFORE TRUNCATE ON log_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The serving role appends to the log and reads it; only the queue loses rows.
GRANT SELECT, INSERT ON log_leaves, log_hashes, log_checkpoints TO clearance_server;
GRANT SELECT, INSERT, DELETE ON log_pending TO clearance_server;
GRANT USAGE ON SEQUENCE log_pending_id_seq TO clearance_server;
