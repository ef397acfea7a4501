//! `generate-register`: prints a synthetic register file (TOML) with many
//! blockers, for load tests and benchmarks (scripts/bench). Needs no database and
//! reads no register file; see the library for what the register holds.

use std::io::Write;

use anyhow::Context;
use clap::Parser;

/// Print a synthetic register file (TOML) with many blockers, for load tests and
/// benchmarks. The same count always gives the same file.
#[derive(Parser)]
#[command(name = "generate-register", version)]
struct Args {
    /// How many blockers the register declares.
    #[arg(
        long,
        default_value_t = 5_000,
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1_000_000)
    )]
    blockers: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = register_generator::large_register(args.blockers);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("could not write the register to standard output")
}
