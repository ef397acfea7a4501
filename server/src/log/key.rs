//! The log's signing key and its checkpoints. The key is an Ed25519 key in the
//! signed-note encoding Go's `sumdb/note` uses (`PRIVATE+KEY+<name>+<id>+<key>`),
//! kept in a file or an environment variable, never in the database. Its name is
//! the log's origin, the first line of every checkpoint. The verifier key
//! (`<name>+<id>+<key>`) is public: with it anyone can open a checkpoint.

use std::path::Path;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash};

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the log key is not a signed-note Ed25519 private key (PRIVATE+KEY+name+id+key)")]
    Malformed,
    #[error("the log name must be non-empty, without spaces or '+': {0:?}")]
    BadName(String),
    #[error("could not read the log key file {path}: {error}")]
    Read { path: String, error: std::io::Error },
}

/// Why a checkpoint was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the verifier key is malformed")]
    BadVerifierKey,
    #[error("the checkpoint is not a well-formed signed note")]
    Malformed,
    #[error("the checkpoint is not signed by the log's key ({0})")]
    NotSigned(String),
    #[error("the checkpoint's origin {found:?} is not the key's log {expected:?}")]
    WrongOrigin { found: String, expected: String },
}

/// A checkpoint whose signature checked: the tree it commits to.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// The log's private key, with the names and public key derived from it.
pub struct LogKey {
    signer: StandardSigner,
    origin: String,
    verifier_key: String,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("origin", &self.origin)
            .field("verifier_key", &self.verifier_key)
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// A new key for the log `name` (for example `clearance.example.com/log`):
    /// the private key's encoding and the public verifier key.
    pub fn generate(name: &str) -> Result<(SecretString, String), KeyError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(KeyError::BadName(name.to_owned()));
        }
        let (private, public) = signed_note::generate_key(&mut rand_core::OsRng, name);
        Ok((SecretString::from(private), public))
    }

    /// The key from its encoding.
    pub fn from_secret(secret: &SecretString) -> Result<Self, KeyError> {
        let encoded = secret.expose_secret().trim();
        let signer = StandardSigner::new(encoded).map_err(|_| KeyError::Malformed)?;
        // `PRIVATE+KEY+<name>+<id>+<base64 of 0x01 ‖ seed>`: the verifier key is
        // derived from the seed.
        let mut parts = encoded.splitn(5, '+');
        let (Some(_), Some(_), Some(name), Some(_), Some(key)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(KeyError::Malformed);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| KeyError::Malformed)?;
        let seed: [u8; 32] = bytes
            .get(1..)
            .and_then(|seed| seed.try_into().ok())
            .ok_or(KeyError::Malformed)?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(Self {
            verifier_key: signed_note::new_ed25519_verifier_key(name, &signing.verifying_key()),
            origin: name.to_owned(),
            signer,
        })
    }

    /// The key from a file holding its encoding.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|error| KeyError::Read {
            path: path.display().to_string(),
            error,
        })?;
        Self::from_secret(&SecretString::from(text))
    }

    /// The log's name: the first line of its checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The public key that opens this key's checkpoints.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The signed checkpoint of a tree of `size` leaves with root `root`.
    pub fn sign_checkpoint(&self, size: u64, root: Hash) -> Result<String, String> {
        let checkpoint =
            Checkpoint::new(&self.origin, size, root, "").map_err(|error| error.to_string())?;
        let text = String::from_utf8(checkpoint.to_bytes()).map_err(|error| error.to_string())?;
        self.sign_note(&text)
    }

    /// `text` (lines, each ending in a newline) as a signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, String> {
        let mut note = Note::new(text.as_bytes(), &[]).map_err(|error| error.to_string())?;
        note.add_sigs(&[&self.signer])
            .map_err(|error| error.to_string())?;
        String::from_utf8(note.to_bytes()).map_err(|error| error.to_string())
    }
}

/// Opens a signed note with the verifier key `verifier_key`: the key's name and
/// the note's text, if the key signed it.
pub fn open_note(verifier_key: &str, signed: &str) -> Result<(String, String), CheckpointError> {
    let verifier =
        StandardVerifier::new(verifier_key.trim()).map_err(|_| CheckpointError::BadVerifierKey)?;
    let name = signed_note::Verifier::name(&verifier).to_owned();
    let note = Note::from_bytes(signed.as_bytes()).map_err(|_| CheckpointError::Malformed)?;
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|error| CheckpointError::NotSigned(error.to_string()))?;
    let text = String::from_utf8(note.text().to_vec()).map_err(|_| CheckpointError::Malformed)?;
    Ok((name, text))
}

/// Opens a signed checkpoint with the verifier key `verifier_key`: the tree it
/// commits to, if the key signed it and it names the key's log.
pub fn open_checkpoint(
    verifier_key: &str,
    signed: &str,
) -> Result<OpenedCheckpoint, CheckpointError> {
    let (expected, text) = open_note(verifier_key, signed)?;
    let checkpoint =
        Checkpoint::from_bytes(text.as_bytes()).map_err(|_| CheckpointError::Malformed)?;
    if checkpoint.origin() != expected {
        return Err(CheckpointError::WrongOrigin {
            found: checkpoint.origin().to_owned(),
            expected,
        });
    }
    Ok(OpenedCheckpoint {
        origin: checkpoint.origin().to_owned(),
        size: checkpoint.size(),
        root: *checkpoint.hash(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_key(name: &str) -> (LogKey, String) {
        let (secret, public) = LogKey::generate(name).expect("a key");
        (LogKey::from_secret(&secret).expect("it loads"), public)
    }

    #[test]
    fn the_derived_verifier_key_is_the_generated_one() {
        let (key, public) = new_key("clearance.test/log");
        assert_eq!(key.verifier_key(), public);
        assert_eq!(key.origin(), "clearance.test/log");
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_only() {
        let (key, public) = new_key("clearance.test/log");
        let root = tlog_tiles::record_hash(b"leaf");
        let signed = key.sign_checkpoint(1, root).expect("signed");
        assert!(signed.starts_with("clearance.test/log\n1\n"));
        let opened = open_checkpoint(&public, &signed).expect("opens");
        assert_eq!((opened.size, opened.root), (1, root));

        let (_, other) = new_key("clearance.test/log");
        assert!(matches!(
            open_checkpoint(&other, &signed),
            Err(CheckpointError::NotSigned(_))
        ));
        let forged = signed.replacen("\n1\n", "\n2\n", 1);
        assert!(open_checkpoint(&public, &forged).is_err());
    }

    #[test]
    fn bad_keys_and_names_are_refused() {
        assert!(LogKey::from_secret(&SecretString::from("PRIVATE+KEY+x+00+AA==")).is_err());
        assert!(LogKey::generate("has space").is_err());
    }
}
