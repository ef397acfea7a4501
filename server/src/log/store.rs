//! The log's tables: pending leaves, leaves in tree order, stored hashes and
//! signed checkpoints (migrations/20261203000024_transparency_log.sql).

use sqlx::PgConnection;
use tlog_tiles::Hash;

use super::leaf::LeafKind;
use super::LogError;

/// Held, as a session lock, by the one server that sequences (its leader
/// connection).
const LEADER_LOCK: i64 = 0x636c_6f67; // "clog"

/// Where servers ask the leader for a batch (payload empty).
pub const FLUSH_CHANNEL: &str = "clearance_log_flush";
/// Where the leader says it wrote a checkpoint (payload: the tree's size).
pub const SEQUENCED_CHANNEL: &str = "clearance_log_sequenced";

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

/// Takes the lead for this connection's session, if nobody holds it.
pub async fn try_lead(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_lock($1) AS "locked!""#,
        LEADER_LOCK
    )
    .fetch_one(conn)
    .await
}

/// Tells every server the tree has `size` leaves (when no batch was needed to
/// answer a server that asked for one).
pub async fn announce(conn: &mut PgConnection, size: u64) -> Result<(), LogError> {
    sqlx::query!(
        "SELECT pg_notify($1, $2::bigint::text)",
        SEQUENCED_CHANNEL,
        to_db(size)?
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Asks the leader, wherever it runs, for a batch.
pub async fn ask_flush(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, '')", FLUSH_CHANNEL)
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

/// Up to `limit` pending leaves, oldest first.
pub async fn pending(conn: &mut PgConnection, limit: i64) -> Result<Vec<Pending>, LogError> {
    Ok(sqlx::query_as!(
        Pending,
        "SELECT id, kind, ref_id, leaf FROM log_pending ORDER BY id LIMIT $1",
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// The records whose leaves wait to be sequenced.
pub async fn pending_refs(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT kind, ref_id FROM log_pending")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|row| (row.kind, row.ref_id)).collect())
}

/// The newest pending leaf's queue number: every leaf committed so far is at
/// or below it. `None` when nothing waits.
pub async fn newest_pending(conn: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT max(id) FROM log_pending")
        .fetch_one(conn)
        .await
}

/// The oldest pending leaf's queue number (`None` when nothing waits) and the
/// newest checkpoint, read together.
pub async fn progress(conn: &mut PgConnection) -> Result<(Option<i64>, Option<Head>), LogError> {
    let row = sqlx::query!(
        r#"SELECT (SELECT min(id) FROM log_pending) AS oldest,
                  c.size AS "size?", c.root AS "root?", c.note AS "note?"
           FROM (SELECT 1) AS one
           LEFT JOIN (SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1) AS c
             ON true"#
    )
    .fetch_one(conn)
    .await?;
    let head = match (row.size, row.root, row.note) {
        (Some(size), Some(root), Some(note)) => {
            Some(Head::try_from(CheckpointRow { size, root, note })?)
        }
        _ => None,
    };
    Ok((row.oldest, head))
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

/// Writes a sequenced batch in one statement: its leaves from index `first`
/// (taking them off the queue), the stored hashes they add, and the checkpoint
/// signed over them; when `announce`, tells every server the tree grew (one
/// waits for it).
pub async fn write_batch(
    conn: &mut PgConnection,
    first: u64,
    leaves: &[Pending],
    hashes: &[(u64, Hash)],
    checkpoint: &Head,
    announce: bool,
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
    let queued: Vec<i64> = leaves.iter().map(|leaf| leaf.id).collect();
    sqlx::query!(
        r#"WITH taken AS (
               DELETE FROM log_pending WHERE id = ANY($10)
           ), leaves AS (
               INSERT INTO log_leaves (idx, kind, ref_id, leaf)
               SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[])
           ), hashes AS (
               INSERT INTO log_hashes (idx, hash)
               SELECT * FROM UNNEST($5::bigint[], $6::bytea[])
           ), announced AS (
               SELECT pg_notify($11, $7::bigint::text) WHERE $12
           )
           INSERT INTO log_checkpoints (size, root, note)
           SELECT $7::bigint, $8::bytea, $9::text FROM (SELECT count(*) FROM announced) AS told"#,
        &indexes,
        &kinds,
        &refs,
        &texts,
        &hash_indexes,
        &hash_values,
        to_db(checkpoint.size)?,
        checkpoint.root.0.as_slice(),
        checkpoint.note,
        &queued,
        SEQUENCED_CHANNEL,
        announce
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
