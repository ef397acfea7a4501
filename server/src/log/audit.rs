//! `server audit verify --checkpoints FILE --key KEY`: the whole log checked
//! against checkpoints kept outside the database. Every leaf is rebuilt from the
//! record it stands for, as the record is now; the tree is rebuilt from those
//! leaves, not from the hashes the database stores; and its root at each kept
//! checkpoint's size must be that checkpoint's root. Whoever can rewrite the
//! database can recompute every digest, head and hash in it, but not re-sign a
//! checkpoint someone else kept: the first kept checkpoint that no longer
//! matches names the leaves among which the change lies.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use app::domain::ledger::canonical_time;
use sqlx::PgPool;
use tlog_tiles::Hash;

use super::key::{open_checkpoint, OpenedCheckpoint};
use super::leaf::{self, LeafKind};
use super::tree::{self, HashCache};
use super::{store, LogError};
use crate::rooms::verify::ledgers;
use crate::tenancy::{self, Acting};

/// The signed checkpoints in `text`, one after another as `GET
/// /api/log/checkpoint` answers them (blank lines between them are allowed).
pub fn split_checkpoints(text: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let mut current = String::new();
    let mut in_signatures = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if in_signatures {
            if bare.starts_with("\u{2014} ") {
                current.push_str(line);
                continue;
            }
            notes.push(std::mem::take(&mut current));
            in_signatures = false;
        }
        if bare.is_empty() {
            if !current.is_empty() {
                in_signatures = true;
                current.push_str(line);
            }
            continue;
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        notes.push(current);
    }
    notes
}

/// What the log should hold for one record, rebuilt from the record.
struct Expected {
    name: String,
    text: String,
}

/// The leaf each ledger record and access event should have, from the rows as
/// they are now (digests recomputed from their fields, never read), by (kind,
/// row id).
async fn expected_leaves(
    conn: &mut sqlx::PgConnection,
) -> Result<HashMap<(String, i64), Expected>, LogError> {
    let mut expected = HashMap::new();
    for room in ledgers(conn).await? {
        let slug = &room.tenant.slug;
        for record in &room.acceptances {
            let mut recomputed = record.clone();
            recomputed.digest = recomputed.computed_digest();
            expected.insert(
                (LeafKind::Acceptance.as_str().to_owned(), record.id),
                Expected {
                    name: format!(
                        "acceptance record {} of {slug} (row {})",
                        record.seq, record.id
                    ),
                    text: leaf::acceptance(&recomputed),
                },
            );
        }
        for change in &room.evidence {
            let mut recomputed = change.clone();
            recomputed.digest = recomputed.computed_digest();
            expected.insert(
                (LeafKind::Evidence.as_str().to_owned(), change.id),
                Expected {
                    name: format!(
                        "evidence change {} of {slug} (row {})",
                        change.seq, change.id
                    ),
                    text: leaf::evidence(&recomputed),
                },
            );
        }
    }
    let access = sqlx::query!(
        "SELECT id, at, account_id, actor, action, subject, remote_addr FROM access_events"
    )
    .fetch_all(&mut *conn)
    .await?;
    for event in access {
        expected.insert(
            (LeafKind::Access.as_str().to_owned(), event.id),
            Expected {
                name: format!(
                    "access event {} by {} at {} (row {})",
                    event.action,
                    event.actor,
                    canonical_time(event.at),
                    event.id
                ),
                text: leaf::access(&leaf::AccessFields {
                    at: canonical_time(event.at),
                    account_id: event.account_id,
                    actor: &event.actor,
                    action: &event.action,
                    subject: event.subject.as_deref(),
                    remote_addr: event.remote_addr.as_deref(),
                }),
            },
        );
    }
    Ok(expected)
}

/// Checks the log against `kept` signed checkpoints with the verifier key
/// `key`: a report, and whether everything holds.
pub async fn verify(pool: &PgPool, key: &str, kept: &[String]) -> Result<(String, bool), LogError> {
    let mut report = String::new();
    let mut intact = true;
    let mut checkpoints: Vec<OpenedCheckpoint> = Vec::new();
    for (number, note) in kept.iter().enumerate() {
        match open_checkpoint(key, note) {
            Ok(opened) => checkpoints.push(opened),
            Err(error) => {
                intact = false;
                let _ = writeln!(report, "REFUSED kept checkpoint #{}: {error}", number + 1);
            }
        }
    }
    checkpoints.sort_by_key(|checkpoint| checkpoint.size);

    let mut tx = tenancy::begin_snapshot(pool, Acting::System).await?;
    let leaves = store::leaves(&mut tx).await?;
    let mut expected = expected_leaves(&mut tx).await?;
    let pending: HashSet<(String, i64)> = store::pending_refs(&mut tx).await?.into_iter().collect();
    let database_head = store::head(&mut tx).await?;
    tx.commit().await?;

    // Each leaf, rebuilt from its record.
    let mut hashes: Vec<Hash> = Vec::with_capacity(leaves.len());
    let mut names: Vec<String> = Vec::with_capacity(leaves.len());
    for (position, stored) in (0_i64..).zip(&leaves) {
        if stored.idx != position {
            intact = false;
            let _ = writeln!(
                report,
                "BROKEN  leaf {position} is missing (the next stored leaf is {})",
                stored.idx
            );
            break;
        }
        match expected.remove(&(stored.kind.clone(), stored.ref_id)) {
            Some(record) => {
                if record.text != stored.leaf {
                    intact = false;
                    let _ = writeln!(
                        report,
                        "BROKEN  leaf {position}: {} no longer matches the leaf logged for it",
                        record.name
                    );
                }
                hashes.push(leaf::hash(&record.text));
                names.push(record.name);
            }
            None => {
                intact = false;
                let _ = writeln!(
                    report,
                    "BROKEN  leaf {position}: its {} record (row {}) is gone",
                    stored.kind, stored.ref_id
                );
                hashes.push(leaf::hash(&stored.leaf));
                names.push(format!("{} row {} (gone)", stored.kind, stored.ref_id));
            }
        }
    }
    let mut unlogged: Vec<&Expected> = expected
        .iter()
        .filter(|(reference, _)| !pending.contains(*reference))
        .map(|(_, record)| record)
        .collect();
    unlogged.sort_by(|a, b| a.name.cmp(&b.name));
    for record in unlogged {
        intact = false;
        let _ = writeln!(report, "BROKEN  {} is not in the log", record.name);
    }

    // The tree rebuilt from the records, against every kept checkpoint.
    let mut cache = HashCache::default();
    for (index, hash) in tree::append(&cache, 0, &hashes)? {
        cache.insert(index, hash);
    }
    let size = hashes.len() as u64;
    let mut matched = 0;
    for checkpoint in &checkpoints {
        if checkpoint.size > size {
            intact = false;
            let _ = writeln!(
                report,
                "BROKEN  a kept checkpoint covers {} leaves but the log holds {size}: leaves were removed",
                checkpoint.size
            );
            continue;
        }
        if tree::root(&cache, checkpoint.size)? == checkpoint.root {
            matched = matched.max(checkpoint.size);
            let _ = writeln!(
                report,
                "ok      consistent with the kept checkpoint of size {}",
                checkpoint.size
            );
        } else {
            intact = false;
            let from = usize::try_from(matched).unwrap_or(usize::MAX);
            let to = usize::try_from(checkpoint.size).unwrap_or(usize::MAX);
            let suspects = names
                .get(from..to)
                .map(|names| names.join("; "))
                .unwrap_or_default();
            let _ = writeln!(
                report,
                "BROKEN  the log no longer matches the kept checkpoint of size {}: leaves {from}..{to} changed since it was signed: {suspects}",
                checkpoint.size
            );
        }
    }

    // The database's own newest checkpoint.
    match database_head {
        Some(head) if head.size <= size => {
            match open_checkpoint(key, &head.note) {
                Ok(opened) if tree::root(&cache, opened.size)? == opened.root => {
                    let _ = writeln!(
                        report,
                        "ok      the newest stored checkpoint ({} leaves) matches",
                        head.size
                    );
                }
                Ok(_) => {
                    intact = false;
                    let _ = writeln!(report, "BROKEN  the newest stored checkpoint ({} leaves) does not match the records", head.size);
                }
                Err(error) => {
                    intact = false;
                    let _ = writeln!(report, "BROKEN  the newest stored checkpoint: {error}");
                }
            }
        }
        Some(head) => {
            intact = false;
            let _ = writeln!(
                report,
                "BROKEN  the newest stored checkpoint covers {} leaves but the log holds {size}",
                head.size
            );
        }
        None => {}
    }
    let _ = writeln!(
        report,
        "{}: {size} leaves, {} kept checkpoint{} checked",
        if intact { "log intact" } else { "log BROKEN" },
        checkpoints.len(),
        if checkpoints.len() == 1 { "" } else { "s" }
    );
    Ok((report, intact))
}

#[cfg(test)]
mod tests {
    use super::split_checkpoints;

    #[test]
    fn checkpoints_kept_one_after_another_split_apart() {
        let one = "log\n1\nAAAA\n\n\u{2014} log abc=\n";
        let two = "log\n2\nBBBB\n\n\u{2014} log def=\n\u{2014} witness ghi=\n";
        assert_eq!(split_checkpoints(&format!("{one}{two}")), vec![one, two]);
        assert_eq!(
            split_checkpoints(&format!("\n{one}\n\n{two}\n")),
            vec![one, two]
        );
        assert!(split_checkpoints("").is_empty());
    }
}
