//! The tree's arithmetic over its stored hashes (numbered as Go's `sumdb/tlog`
//! numbers them), done by `tlog_tiles`. The functions here are pure; a
//! [`HashCache`] serves the hashes they read and notes those it lacks, which
//! [`with_hashes`] then reads from the database before trying again.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use sqlx::PgConnection;
use tlog_tiles::{
    prove_record, prove_tree, stored_hash_count, stored_hashes_for_record_hash, sub_tree_index,
    tree_hash, Hash, HashReader,
};

use super::{store, LogError};

/// Stored hashes known in memory, by index.
#[derive(Debug, Default)]
pub struct HashCache {
    known: HashMap<u64, Hash>,
    missing: RefCell<BTreeSet<u64>>,
}

impl HashReader for HashCache {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let mut hashes = Vec::with_capacity(indexes.len());
        let mut missing = self.missing.borrow_mut();
        for index in indexes {
            match self.known.get(index) {
                Some(hash) => hashes.push(*hash),
                None => {
                    missing.insert(*index);
                }
            }
        }
        if missing.is_empty() {
            Ok(hashes)
        } else {
            Err(tlog_tiles::Error::IndexesNotInTree)
        }
    }
}

impl HashCache {
    pub fn insert(&mut self, index: u64, hash: Hash) {
        self.known.insert(index, hash);
    }

    /// Keeps only what appending to a tree of `size` leaves needs: the hashes
    /// of its largest complete subtrees.
    pub fn keep_frontier(&mut self, size: u64) {
        let frontier: BTreeSet<u64> = sub_tree_index(0, size, Vec::new()).into_iter().collect();
        self.known.retain(|index, _| frontier.contains(index));
    }

    fn take_missing(&self) -> Vec<u64> {
        std::mem::take(&mut *self.missing.borrow_mut())
            .into_iter()
            .collect()
    }
}

/// A cache with hashes not yet stored laid over it.
struct Overlay<'a> {
    base: &'a HashCache,
    new: HashMap<u64, Hash>,
}

impl HashReader for Overlay<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let old: Vec<u64> = indexes
            .iter()
            .filter(|index| !self.new.contains_key(index))
            .copied()
            .collect();
        let mut from_base = self.base.read_hashes(&old)?.into_iter();
        indexes
            .iter()
            .map(|index| match self.new.get(index) {
                Some(hash) => Ok(*hash),
                None => from_base.next().ok_or(tlog_tiles::Error::BadMath),
            })
            .collect()
    }
}

/// The stored hashes that appending `leaves` to a tree of `size` leaves adds,
/// with their indexes, in order.
pub fn append(
    cache: &HashCache,
    size: u64,
    leaves: &[Hash],
) -> Result<Vec<(u64, Hash)>, tlog_tiles::Error> {
    let mut overlay = Overlay {
        base: cache,
        new: HashMap::new(),
    };
    let mut added = Vec::new();
    for (n, leaf) in (size..).zip(leaves) {
        let first = stored_hash_count(n);
        for (index, hash) in (first..).zip(stored_hashes_for_record_hash(n, *leaf, &overlay)?) {
            overlay.new.insert(index, hash);
            added.push((index, hash));
        }
    }
    Ok(added)
}

/// The root of the tree of `size` leaves.
pub fn root(cache: &HashCache, size: u64) -> Result<Hash, tlog_tiles::Error> {
    tree_hash(size, cache)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion(cache: &HashCache, size: u64, index: u64) -> Result<Vec<Hash>, tlog_tiles::Error> {
    prove_record(size, index, cache)
}

/// The consistency proof from the tree of `from` leaves to the tree of `to`.
pub fn consistency(cache: &HashCache, to: u64, from: u64) -> Result<Vec<Hash>, tlog_tiles::Error> {
    prove_tree(to, from, cache)
}

/// Runs `compute` against `cache`, reading the stored hashes it lacks from the
/// database and trying again (each proof reads all it needs in one go, so this
/// is one query at most, in practice).
pub async fn with_hashes<T>(
    conn: &mut PgConnection,
    cache: &mut HashCache,
    compute: impl Fn(&HashCache) -> Result<T, tlog_tiles::Error>,
) -> Result<T, LogError> {
    for _ in 0..8 {
        match compute(cache) {
            Ok(value) => return Ok(value),
            Err(error) => {
                let missing = cache.take_missing();
                if missing.is_empty() {
                    return Err(error.into());
                }
                let found = store::hashes(conn, &missing).await?;
                if found.len() < missing.len() {
                    return Err(LogError::MissingHashes(missing.len() - found.len()));
                }
                for (index, hash) in found {
                    cache.insert(index, hash);
                }
            }
        }
    }
    Err(LogError::MissingHashes(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlog_tiles::{check_record, check_tree, record_hash};

    fn leaves(count: u64) -> Vec<Hash> {
        (0..count)
            .map(|n| record_hash(format!("leaf {n}").as_bytes()))
            .collect()
    }

    /// A tree built in uneven batches, keeping only the frontier in between,
    /// proves every leaf and every earlier size, as `tlog_tiles` checks them.
    #[test]
    fn batches_build_the_same_tree_as_one_append() {
        let all = leaves(37);
        let mut whole = HashCache::default();
        for (index, hash) in append(&whole, 0, &all).expect("append") {
            whole.insert(index, hash);
        }
        let mut frontier = HashCache::default();
        let mut stored = HashCache::default();
        let mut size = 0;
        for batch in [1usize, 2, 5, 1, 13, 8, 7] {
            let new = &all[size as usize..size as usize + batch];
            let added = append(&frontier, size, new).expect("append batch");
            for (index, hash) in added {
                frontier.insert(index, hash);
                stored.insert(index, hash);
            }
            let next = size + batch as u64;
            let root = root(&frontier, next).expect("root from the frontier");
            // Every leaf of the batch is proved from the frontier and the batch.
            for n in size..next {
                let proof = inclusion(&frontier, next, n).expect("proof from memory");
                check_record(&proof, next, root, n, all[n as usize]).expect("proof checks");
            }
            frontier.keep_frontier(next);
            size = next;
        }
        assert_eq!(size, 37);
        let root_all = root(&whole, 37).expect("root");
        assert_eq!(root(&stored, 37).expect("root"), root_all);
        for old in 1..37 {
            let proof = consistency(&stored, 37, old).expect("consistency");
            let old_root = root(&stored, old).expect("old root");
            check_tree(&proof, 37, root_all, old, old_root).expect("consistent");
        }
    }

    #[test]
    fn a_missing_hash_is_named() {
        let cache = HashCache::default();
        assert!(root(&cache, 3).is_err());
        assert!(!cache.take_missing().is_empty());
    }
}
