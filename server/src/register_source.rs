//! Loading the register: a file given by the operator, or the embedded default.

use std::path::Path;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER, DEFAULT_REGISTER_NAME};
use app::domain::Register;

/// Why no register could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RegisterLoadError {
    #[error("could not read register file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] app::domain::register_file::RegisterFileError),
}

/// Loads and validates the register at `path`, or the embedded default.
pub fn load(path: Option<&Path>) -> Result<Register, RegisterLoadError> {
    match path {
        None => Ok(parse_register(DEFAULT_REGISTER_NAME, DEFAULT_REGISTER)?),
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| RegisterLoadError::Read {
                path: name.clone(),
                source,
            })?;
            Ok(parse_register(&name, &text)?)
        }
    }
}
