//! The launch dossier's integrity: every part of the document carries a SHA-256
//! digest in its manifest, computed over the part's canonical JSON (object keys
//! sorted, no insignificant whitespace), so a downloaded dossier can be checked
//! by anyone with `server dossier verify` or a few lines of any language.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The dossier's format name and version.
pub const FORMAT: &str = "clearance.dossier/1";

/// SHA-256 (hex) of a part's canonical encoding. `serde_json::Value` keeps object
/// keys sorted, so equal content always encodes to equal bytes.
pub fn part_digest(part: &Value) -> String {
    let bytes = serde_json::to_vec(part).expect("a JSON value always serializes");
    hex::encode(Sha256::digest(bytes))
}

/// The manifest for `parts`: part name → digest.
pub fn manifest(parts: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    parts
        .iter()
        .map(|(name, part)| (name.clone(), part_digest(part)))
        .collect()
}

/// The text the dossier's `signature` signs (a C2SP signed note made with the
/// transparency log's key): which tenant, when, and the SHA-256 of the manifest's
/// canonical JSON. Whoever holds the log's public key can tell that the server
/// issued this dossier and that its manifest, hence every part, is unchanged.
pub fn signed_text(tenant: &str, generated_at: &str, manifest: &Value) -> String {
    format!(
        "{FORMAT}\ntenant {tenant}\ngenerated {generated_at}\nmanifest {}\n",
        part_digest(manifest)
    )
}

/// One part's check against the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PartCheck {
    Intact {
        part: String,
    },
    Altered {
        part: String,
    },
    /// Listed in the manifest, absent from the document.
    Missing {
        part: String,
    },
    /// In the document, absent from the manifest.
    Unlisted {
        part: String,
    },
}

impl PartCheck {
    pub fn is_intact(&self) -> bool {
        matches!(self, Self::Intact { .. })
    }
}

/// Checks a dossier document's parts against its manifest. `Err` when the
/// document is not a dossier at all.
pub fn verify(document: &Value) -> Result<Vec<PartCheck>, String> {
    if document.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(format!("not a dossier: `format` is not {FORMAT}"));
    }
    let parts = document
        .get("parts")
        .and_then(Value::as_object)
        .ok_or("not a dossier: no `parts` object")?;
    let listed = document
        .get("manifest")
        .and_then(Value::as_object)
        .ok_or("not a dossier: no `manifest` object")?;
    let mut checks = Vec::new();
    for (name, digest) in listed {
        checks.push(match parts.get(name) {
            None => PartCheck::Missing { part: name.clone() },
            Some(part) if Some(part_digest(part).as_str()) == digest.as_str() => {
                PartCheck::Intact { part: name.clone() }
            }
            Some(_) => PartCheck::Altered { part: name.clone() },
        });
    }
    for name in parts.keys().filter(|name| !listed.contains_key(*name)) {
        checks.push(PartCheck::Unlisted { part: name.clone() });
    }
    Ok(checks)
}
