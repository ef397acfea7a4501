//! The synthetic register generator: its output is a valid, deterministic register
//! file shaped like a real one, written through the `toml` serializer so that any
//! register text round-trips; the binary prints it.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

use std::collections::HashMap;
use std::process::Command;

use app::domain::register::Register;
use app::domain::register_file::{parse_register, DEFAULT_REGISTER, DEFAULT_REGISTER_NAME};
use register_generator::file::RegisterFile;
use register_generator::large_register;

fn parsed(blockers: usize) -> Register {
    parse_register("generated.toml", &large_register(blockers))
        .unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn five_thousand_blockers_parse_into_a_register_with_five_thousand_blockers() {
    let register = parsed(5_000);
    let default = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();

    assert_eq!(register.blockers.len(), 5_000);
    assert_eq!(register.scopes.len(), 8);
    for scope in ["private-beta", "paid-launch", "enterprise"] {
        assert!(register.scope(scope).is_some(), "scope {scope} is missing");
    }
    assert!((200..=400).contains(&register.proofs.len()));
    assert!(register
        .proofs
        .iter()
        .all(|proof| proof.command.contains("<secret>")));
    assert_eq!(register.customer_evidence, default.customer_evidence);
    assert_eq!(register.evidence_packs, default.evidence_packs);
    assert_eq!(register.boundaries, default.boundaries);
    assert_eq!(register.page, default.page);
    assert_eq!(register.decision, default.decision);
}

#[test]
fn the_motions_are_the_defaults_with_generated_blockers_of_the_same_scope() {
    let register = parsed(5_000);
    let default = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();

    assert_eq!(register.motions.len(), default.motions.len());
    for (motion, original) in register.motions.iter().zip(&default.motions) {
        assert_eq!(motion.id, original.id);
        assert_eq!(motion.summary, original.summary);
        let requires = &motion.requires;
        assert_eq!(requires.public_checks, original.requires.public_checks);
        assert_eq!(
            requires.strict_readiness,
            original.requires.strict_readiness
        );
        assert_eq!(
            requires.conditional_scopes,
            original.requires.conditional_scopes
        );
        assert_eq!(requires.evidence_gates, original.requires.evidence_gates);
        let scopes = |register: &Register, ids: &[String]| -> Vec<String> {
            ids.iter()
                .map(|id| register.blocker(id).unwrap().scope.clone())
                .collect()
        };
        assert_eq!(
            scopes(&register, &requires.cleared_blockers),
            scopes(&default, &original.requires.cleared_blockers),
            "motion {}",
            motion.id
        );
    }
}

#[test]
fn blockers_share_env_var_shaped_dependency_names() {
    let register = parsed(5_000);
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for blocker in &register.blockers {
        assert!((1..=4).contains(&blocker.dependencies.len()));
        for name in &blocker.dependencies {
            *uses.entry(name).or_default() += 1;
        }
    }
    assert!(uses.keys().all(|name| name
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')));
    assert!(
        uses.values().filter(|&&count| count > 1).count() > 1_000,
        "many names are shared between blockers"
    );
}

#[test]
fn a_search_word_and_a_scope_narrow_the_blockers() {
    let register = parsed(5_000);
    let mentions = |word: &str| {
        register
            .blockers
            .iter()
            .filter(|blocker| {
                format!(
                    "{} {} {}",
                    blocker.title, blocker.required_for, blocker.if_missing
                )
                .to_lowercase()
                .contains(word)
            })
            .collect::<Vec<_>>()
    };
    let billing = mentions("billing");
    assert!(
        (100..=1_000).contains(&billing.len()),
        "{} blockers mention billing",
        billing.len()
    );
    let enterprise_billing = billing
        .iter()
        .filter(|blocker| blocker.scope == "enterprise")
        .count();
    assert!(
        (10..=200).contains(&enterprise_billing),
        "{enterprise_billing} enterprise blockers mention billing"
    );
    for word in ["sso", "webhook", "export", "audit"] {
        assert!(!mentions(word).is_empty(), "no blocker mentions {word}");
    }
}

#[test]
fn the_same_count_always_gives_the_same_text() {
    assert_eq!(large_register(5_000), large_register(5_000));
    assert_ne!(large_register(5_000), large_register(4_999));
}

#[test]
fn small_registers_parse_too() {
    for count in [0, 1, 3, 7, 20] {
        let register = parsed(count);
        assert_eq!(register.blockers.len(), count);
        assert!(register.proofs.len() >= 4);
    }
    let three = parsed(3);
    assert!(three
        .motions
        .iter()
        .filter(|motion| motion.requires.strict_readiness)
        .all(|motion| !motion.requires.cleared_blockers.is_empty()));
}

#[test]
fn the_command_prints_the_register_without_a_database() {
    let output = Command::new(env!("CARGO_BIN_EXE_generate-register"))
        .args(["--blockers", "3"])
        .env_remove("DATABASE_URL")
        .env_remove("CLEARANCE_REGISTER")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text, large_register(3));
}

#[test]
fn the_file_structs_write_the_default_register_back_unchanged() {
    let default = parse_register(DEFAULT_REGISTER_NAME, DEFAULT_REGISTER).unwrap();
    let text = toml::to_string(&RegisterFile::from(&default)).unwrap();
    let written = parse_register("written.toml", &text).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(written, default);
}

#[test]
fn text_that_needs_escaping_round_trips() {
    let mut register = parse_register(DEFAULT_REGISTER_NAME, DEFAULT_REGISTER).unwrap();
    let awkward = "quotes \" and ' apostrophes,\nnew lines, \\ back\\slashes, tabs\t, \
                   \u{7f} \u{1b}[0m and ''' triples \"\"\" end";
    register.page.introduction = awkward.to_owned();
    register.decision.statement = format!("{awkward}\n");
    let text = toml::to_string(&RegisterFile::from(&register)).unwrap();
    let written = parse_register("written.toml", &text).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(written, register);
}

#[test]
fn an_empty_register_still_declares_its_blockers() {
    let text = large_register(0);
    assert!(text.contains("\nblockers = []\n"), "{text}");
    assert!(text.starts_with("# Synthetic register with 0 blockers"));
}
