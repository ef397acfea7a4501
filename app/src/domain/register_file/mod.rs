//! Reading a register file (TOML) into a validated [`Register`].
//!
//! Pure: text in, register or problems out. Every problem names the file, the line
//! and column, and what is wrong, so a bad file can be fixed without guessing.
//!
//! - `raw`: the file's shape, as TOML deserializes it (every value with its span).
//! - `checker`: the rules a register must meet, checked over the raw file into a
//!   [`Register`], every problem collected with its position.
//! - `health_checks`: the rules of `[[readiness.checks]]`.

mod checker;
mod health_checks;
mod kinds;
mod raw;

use std::fmt;

use checker::Checker;
use raw::RawRegister;

use super::register::Register;

/// The Thesmios register, compiled in as the default.
pub const DEFAULT_REGISTER: &str = include_str!("../../../../registers/thesmios.toml");
/// The name the default register is reported under in errors and on the page.
pub const DEFAULT_REGISTER_NAME: &str = "registers/thesmios.toml (embedded)";

/// One thing wrong with a register file, at a position in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Why a register file was refused: every problem found, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RegisterFileError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for RegisterFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid register file {} ({} problem{}):",
            self.file,
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(
                f,
                "\n  {}:{}:{}: {}",
                self.file, problem.line, problem.column, problem.message
            )?;
        }
        Ok(())
    }
}

/// Parses and validates register text. `file` names it in errors.
pub fn parse_register(file: &str, text: &str) -> Result<Register, RegisterFileError> {
    let mut checker = Checker {
        text,
        problems: Vec::new(),
    };
    let raw: RawRegister = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            checker.problem(&span, error.message().to_owned());
            return Err(checker.into_error(file));
        }
    };
    let register = checker.check(raw);
    if checker.problems.is_empty() {
        Ok(register)
    } else {
        Err(checker.into_error(file))
    }
}
