//! Synthetic register files for load tests and benchmarks: a tool, not part of
//! the product (the `generate-register` binary prints one).
//!
//! [`large_register`] writes a valid register file with as many blockers as asked.
//! Its page, decision, launch motions, customer evidence, evidence packs and
//! boundaries are the default register's; its scopes, proofs and blockers are
//! generated from small vocabularies ([`generated`]), so that free-text search and
//! facets narrow the blockers the way they would in a real register. The output
//! depends only on the count (a fixed-seed generator, no randomness from the
//! machine): the same count always gives the same bytes, so figures from different
//! runs describe one page. The text is written by the `toml` crate's serializer
//! from the structs in [`file`], which mirror the register file format.

pub mod file;
pub mod generated;

use std::collections::HashSet;

use app::domain::register::{LaunchMotion, Register};
use app::domain::register_file::{parse_register, DEFAULT_REGISTER, DEFAULT_REGISTER_NAME};

use file::{BlockerTable, MotionTable, RegisterFile, RequirementsTable, ScopeTable};
use generated::{SplitMix64, EXTRA_SCOPES};

/// The comment at the top of every generated file; `{blockers}` is the count.
const HEADER: &str = "\
Synthetic register with {blockers} blockers, written by `generate-register`
(tools/register-generator) for load tests and benchmarks. The page, decision,
motions, customer evidence, evidence packs and boundaries are the default
register's; scopes, proofs and blockers are generated (deterministically: the
same count gives the same file).";

/// The TOML text of a valid register file with exactly `blockers` blockers.
///
/// About one proof per sixteen blockers (at least 4, at most 300), eight scopes,
/// three dependency names for every four blockers, each blocker naming one to four
/// of them, so names are shared. The four launch motions are the default
/// register's, their required blockers replaced by generated blockers of the same
/// scope.
pub fn large_register(blockers: usize) -> String {
    let file = large_register_file(blockers);
    let body = toml::to_string(&file)
        .expect("a register file has only strings, integers, booleans, arrays and tables");
    let mut text = String::new();
    for line in HEADER.replace("{blockers}", &blockers.to_string()).lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&body);
    text
}

/// The register file [`large_register`] writes, before serialization.
pub fn large_register_file(blockers: usize) -> RegisterFile {
    let default = default_register();
    // The order of the draws below is part of the output: changing it changes
    // every generated register.
    let mut random = SplitMix64::seeded();

    let mut scopes: Vec<ScopeTable> = default.scopes.iter().map(ScopeTable::from).collect();
    scopes.extend(EXTRA_SCOPES.iter().map(|&(id, label)| ScopeTable {
        id: id.to_owned(),
        label: label.to_owned(),
    }));
    let dependency_names: Vec<String> = (1..=(blockers * 3 / 4).max(8))
        .map(|number| generated::dependency_name(number, &mut random))
        .collect();
    let proofs: Vec<_> = (0..(blockers / 16).clamp(4, 300))
        .map(|index| generated::proof(index, &dependency_names, &mut random))
        .collect();
    let generated: Vec<BlockerTable> = (0..blockers)
        .map(|index| generated::blocker(index, &scopes, &proofs, &dependency_names, &mut random))
        .collect();
    let motions = default
        .motions
        .iter()
        .map(|motion| substituted_motion(motion, &default, &generated))
        .collect();

    RegisterFile {
        scopes,
        proofs,
        blockers: generated,
        motions,
        // The default register's kinds name its own blockers' dependencies,
        // which the generated blockers replace.
        dependencies: Vec::new(),
        ..RegisterFile::from(&default)
    }
}

fn default_register() -> Register {
    parse_register(DEFAULT_REGISTER_NAME, DEFAULT_REGISTER)
        .expect("the embedded default register is valid: the register unit tests parse it")
}

/// One of the default motions, its required blockers swapped for generated ones:
/// for each, the first generated blocker of the same scope not taken yet (or of
/// any scope, in a register too small to have one).
fn substituted_motion(
    motion: &LaunchMotion,
    default: &Register,
    generated: &[BlockerTable],
) -> MotionTable {
    let mut taken = HashSet::new();
    let cleared: Vec<String> = motion
        .requires
        .cleared_blockers
        .iter()
        .filter_map(|id| {
            let scope = default.blocker(id).map(|blocker| blocker.scope.as_str());
            let substitute = generated
                .iter()
                .find(|blocker| {
                    Some(blocker.scope.as_str()) == scope && !taken.contains(&blocker.id)
                })
                .or_else(|| {
                    generated
                        .iter()
                        .find(|blocker| !taken.contains(&blocker.id))
                })?;
            taken.insert(substitute.id.clone());
            Some(substitute.id.clone())
        })
        .collect();
    let requires = RequirementsTable {
        cleared_blockers: cleared,
        ..RequirementsTable::from(&motion.requires)
    };
    MotionTable::new(motion, requires)
}
