//! The log's tables: pending leaves, leaves in tree order, stored hashes and
//! signed checkpoints (migrations/20261203000024_transparency_log.sql).

use sqlx::PgConnection;
use tlog_tiles::Hash;

use super::leaf::LeafKind;
use super::LogError;

/// Serialises sequencing across every server on the database: held by the
/// sequencer's transaction until it commits.
const SEQUENCER_LOCK: i64 = 0x636c_6f67; // "clog"

/// A leaf waiting for its place.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub kind: String,
    pub ref_id: i64,
    pub leaf: String,
}

/// The newest signed checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

/// Queues the leaf `leaf` of the record `ref_id` of `kind`, in the caller's
/// transaction: it is sequenced exactly when the record exists.
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: LeafKind,
    ref_id: i64,
    leaf: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO log_pending (kind, ref_id, leaf) VALUES ($1, $2, $3)",
        kind.as_str(),
        ref_id,
        leaf
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the sequencing lock for the rest of the transaction.
pub async fn lock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", SEQUENCER_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

fn to_hash(bytes: &[u8]) -> Result<Hash, LogError> {
    bytes
        .try_into()
        .map(Hash)
        .map_err(|_| LogError::Invalid("a stored hash is not 32 bytes".to_owned()))
}

fn to_size(value: i64) -> Result<u64, LogError> {
    u64::try_from(value).map_err(|_| LogError::Invalid("a negative tree size".to_owned()))
}

fn to_db(value: u64) -> Result<i64, LogError> {
    i64::try_from(value).map_err(|_| LogError::Invalid("the tree is too large".to_owned()))
}

/// A `log_checkpoints` row as PostgreSQL hands it over.
struct CheckpointRow {
    size: i64,
    root: Vec<u8>,
    note: String,
}

impl TryFrom<CheckpointRow> for Head {
    type Error = LogError;

    fn try_from(row: CheckpointRow) -> Result<Self, LogError> {
        Ok(Self {
            size: to_size(row.size)?,
            root: to_hash(&row.root)?,
            note: row.note,
        })
    }
}

/// The newest checkpoint; `None` before the first.
pub async fn head(conn: &mut PgConnection) -> Result<Option<Head>, LogError> {
    sqlx::query_as!(
        CheckpointRow,
        "SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1"
    )
    .fetch_optional(conn)
    .await?
    .map(Head::try_from)
    .transpose()
}

/// The checkpoint signed at exactly `size`, if any.
pub async fn checkpoint(conn: &mut PgConnection, size: u64) -> Result<Option<Head>, LogError> {
    sqlx::query_as!(
        CheckpointRow,
        "SELECT size, root, note FROM log_checkpoints WHERE size = $1",
        to_db(size)?
    )
    .fetch_optional(conn)
    .await?
    .map(Head::try_from)
    .transpose()
}

/// Takes up to `limit` pending leaves, oldest first, deleting them: the caller
/// places them in the same transaction.
pub async fn take_pending(conn: &mut PgConnection, limit: i64) -> Result<Vec<Pending>, LogError> {
    let mut rows = sqlx::query_as!(
        Pending,
        r#"DELETE FROM log_pending
           WHERE id IN (SELECT id FROM log_pending ORDER BY id LIMIT $1)
           RETURNING id, kind, ref_id, leaf"#,
        limit
    )
    .fetch_all(conn)
    .await?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// The records whose leaves wait to be sequenced.
pub async fn pending_refs(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT kind, ref_id FROM log_pending")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|row| (row.kind, row.ref_id)).collect())
}

/// Whether any leaf waits.
pub async fn any_pending(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM log_pending) AS "any!""#)
        .fetch_one(conn)
        .await
}

/// Stored hashes by index; those not stored are left out.
pub async fn hashes(
    conn: &mut PgConnection,
    indexes: &[u64],
) -> Result<Vec<(u64, Hash)>, LogError> {
    let wanted = indexes
        .iter()
        .map(|index| to_db(*index))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = sqlx::query!(
        "SELECT idx, hash FROM log_hashes WHERE idx = ANY($1)",
        &wanted
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| Ok((to_size(row.idx)?, to_hash(&row.hash)?)))
        .collect()
}

/// Writes a sequenced batch in one statement: its leaves from index `first`,
/// the stored hashes they add, and the checkpoint signed over them.
pub async fn write_batch(
    conn: &mut PgConnection,
    first: u64,
    leaves: &[Pending],
    hashes: &[(u64, Hash)],
    checkpoint: &Head,
) -> Result<(), LogError> {
    let first = to_db(first)?;
    let indexes: Vec<i64> = (first..).take(leaves.len()).collect();
    let kinds: Vec<String> = leaves.iter().map(|leaf| leaf.kind.clone()).collect();
    let refs: Vec<i64> = leaves.iter().map(|leaf| leaf.ref_id).collect();
    let texts: Vec<String> = leaves.iter().map(|leaf| leaf.leaf.clone()).collect();
    let hash_indexes = hashes
        .iter()
        .map(|(index, _)| to_db(*index))
        .collect::<Result<Vec<_>, _>>()?;
    let hash_values: Vec<Vec<u8>> = hashes.iter().map(|(_, hash)| hash.0.to_vec()).collect();
    sqlx::query!(
        r#"WITH leaves AS (
               INSERT INTO log_leaves (idx, kind, ref_id, leaf)
               SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[])
           ), hashes AS (
               INSERT INTO log_hashes (idx, hash)
               SELECT * FROM UNNEST($5::bigint[], $6::bytea[])
           )
           INSERT INTO log_checkpoints (size, root, note) VALUES ($7, $8, $9)"#,
        &indexes,
        &kinds,
        &refs,
        &texts,
        &hash_indexes,
        &hash_values,
        to_db(checkpoint.size)?,
        checkpoint.root.0.as_slice(),
        checkpoint.note
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the first checkpoint, of the empty tree.
pub async fn write_checkpoint(conn: &mut PgConnection, checkpoint: &Head) -> Result<(), LogError> {
    sqlx::query!(
        "INSERT INTO log_checkpoints (size, root, note) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        to_db(checkpoint.size)?,
        checkpoint.root.0.as_slice(),
        checkpoint.note
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Where the record `ref_id` of `kind` sits in the tree, with its leaf text.
pub async fn leaf_of(
    conn: &mut PgConnection,
    kind: LeafKind,
    ref_id: i64,
) -> Result<Option<(u64, String)>, LogError> {
    let row = sqlx::query!(
        "SELECT idx, leaf FROM log_leaves WHERE kind = $1 AND ref_id = $2",
        kind.as_str(),
        ref_id
    )
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok((to_size(row.idx)?, row.leaf))).transpose()
}

/// One leaf as stored, in tree order.
#[derive(Debug, Clone)]
pub struct StoredLeaf {
    pub idx: i64,
    pub kind: String,
    pub ref_id: i64,
    pub leaf: String,
}

/// Every leaf, in tree order.
pub async fn leaves(conn: &mut PgConnection) -> Result<Vec<StoredLeaf>, sqlx::Error> {
    sqlx::query_as!(
        StoredLeaf,
        "SELECT idx, kind, ref_id, leaf FROM log_leaves ORDER BY idx"
    )
    .fetch_all(conn)
    .await
}
