//! The readiness document's provenance: where each fact came from and when it
//! was last seen. Kept beside the live state, not in it, so a fact seen again
//! unchanged updates its time without counting as a change of state.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use app::domain::document::{FactSource, Origin, Provenance};

/// The newest provenance, written by the monitor on every reading.
#[derive(Clone, Default)]
pub struct ProvenanceBoard(Arc<RwLock<Provenance>>);

impl ProvenanceBoard {
    pub fn current(&self) -> Provenance {
        self.0
            .read()
            .map(|provenance| provenance.clone())
            .unwrap_or_default()
    }

    pub fn set(&self, provenance: Provenance) {
        if let Ok(mut current) = self.0.write() {
            *current = provenance;
        }
    }
}

/// Every name from one source, seen at one time.
pub fn all<'a>(
    names: impl IntoIterator<Item = &'a String>,
    source: &FactSource,
    last_seen: DateTime<Utc>,
) -> std::collections::BTreeMap<String, Origin> {
    names
        .into_iter()
        .map(|name| {
            (
                name.clone(),
                Origin {
                    source: source.clone(),
                    last_seen,
                },
            )
        })
        .collect()
}
