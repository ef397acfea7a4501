//! Proof runs in PostgreSQL, and keeping secret values out of their excerpts.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use app::domain::events::{self, EventType};
use app::domain::proof_run::{NewProofRun, ProofRun};
use app::domain::Register;

/// Stores a validated run, and a `proof.failed` event with it when it failed.
/// The insert trigger notifies every server process.
pub async fn record(
    pool: &PgPool,
    register: &Register,
    run: &NewProofRun,
) -> Result<ProofRun, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let stored = sqlx::query_as!(
        ProofRun,
        r#"INSERT INTO proof_runs (proof_id, passed, ran_at, actor, output_digest, excerpt)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, proof_id, passed, ran_at, recorded_at, actor, output_digest, excerpt"#,
        run.proof_id,
        run.passed,
        run.ran_at,
        run.actor,
        run.output_digest,
        run.excerpt,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !stored.passed {
        let detail = format!(
            "run {} at {} by {} failed",
            stored.id,
            stored.ran_at.format("%Y-%m-%d %H:%M:%S UTC"),
            stored.actor
        );
        let event = events::proof_event(
            register,
            EventType::ProofFailed,
            &stored.proof_id,
            &detail,
            stored.ran_at,
        );
        crate::events::emit(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(stored)
}

/// The latest run of every proof that has one.
pub async fn latest_runs(pool: &PgPool) -> Result<BTreeMap<String, ProofRun>, sqlx::Error> {
    let runs = sqlx::query_as!(
        ProofRun,
        r#"SELECT DISTINCT ON (proof_id)
                  id, proof_id, passed, ran_at, recorded_at, actor, output_digest, excerpt
           FROM proof_runs
           ORDER BY proof_id, ran_at DESC, id DESC"#
    )
    .fetch_all(pool)
    .await?;
    Ok(runs
        .into_iter()
        .map(|run| (run.proof_id.clone(), run))
        .collect())
}

/// The newest `limit` runs of one proof.
pub async fn recent_runs(
    pool: &PgPool,
    proof_id: &str,
    limit: i64,
) -> Result<Vec<ProofRun>, sqlx::Error> {
    sqlx::query_as!(
        ProofRun,
        r#"SELECT id, proof_id, passed, ran_at, recorded_at, actor, output_digest, excerpt
           FROM proof_runs WHERE proof_id = $1
           ORDER BY ran_at DESC, id DESC LIMIT $2"#,
        proof_id,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Proof id → passing, for every proof the register declares: a proof passes while
/// its latest run passed and ran within the freshness window.
pub fn passing_states(
    register: &Register,
    latest: &BTreeMap<String, ProofRun>,
    now: DateTime<Utc>,
) -> BTreeMap<String, bool> {
    let window = Duration::days(i64::from(register.readiness.proof_freshness_days));
    register
        .proofs
        .iter()
        .map(|proof| {
            let passing = latest
                .get(&proof.id)
                .is_some_and(|run| run.passed && now - run.ran_at <= window);
            (proof.id.clone(), passing)
        })
        .collect()
}

/// The shortest run of a secret value's characters (in any of its forms) that
/// is redacted wherever it appears: any 8 consecutive characters of a configured
/// value count as a leak, so pieces, tails and cut-off values are caught too.
pub const REDACTION_WINDOW: usize = 8;
/// Values shorter than this are left alone: they cannot be told apart from
/// ordinary text.
const SHORTEST_SECRET: usize = 4;

/// The forms a secret value may take in a command's output: as is,
/// percent-encoded (upper- and lower-case hex, `+` or `%20` for spaces),
/// JSON-escaped (plain and with `<`, `>`, `&` as `\u003c`…), and base64
/// (standard and URL-safe alphabets, with or without padding, at each of the
/// three byte offsets, so the value's base64 inside a longer encoded text is
/// found too).
pub fn encoded_forms(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

    let percent = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|json| json.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned();
    let mut forms = vec![
        value.to_owned(),
        lowercase_hex(&percent),
        form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        crate::api::safe_json::escape_markup_text(&json),
        json.replace('/', "\\/"),
        json,
        percent,
    ];
    for offset in 0..3_usize {
        let mut bytes = vec![0_u8; offset];
        bytes.extend_from_slice(value.as_bytes());
        // Characters that also depend on the bytes before or after the value
        // are dropped: the leading ones carry the offset's filler, the last one
        // (when the value does not end a 3-byte group) the next byte.
        let leading = [0, 2, 3][offset];
        let trailing = usize::from(bytes.len() % 3 != 0);
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&bytes);
            let end = encoded.len().saturating_sub(trailing);
            if let Some(stable) = encoded.get(leading..end) {
                forms.push(stable.to_owned());
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// `%2F` → `%2f`, leaving every other character as it is.
fn lowercase_hex(percent_encoded: &str) -> String {
    let mut out = String::with_capacity(percent_encoded.len());
    let mut hex_left = 0;
    for c in percent_encoded.chars() {
        if hex_left > 0 {
            out.push(c.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            out.push(c);
            if c == '%' {
                hex_left = 2;
            }
        }
    }
    out
}

/// Secret values and how to find them in text: every [`REDACTION_WINDOW`]-long
/// run of characters of any of their forms, and short values whole.
pub struct Redactor {
    windows: HashMap<Vec<char>, Vec<String>>,
    short: Vec<(Vec<char>, String)>,
}

impl Redactor {
    /// From `(name, value)` pairs; values under [`SHORTEST_SECRET`] characters are
    /// ignored.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut windows = HashMap::new();
        let mut short = Vec::new();
        for (name, value) in secrets {
            if value.chars().count() < SHORTEST_SECRET {
                continue;
            }
            for form in encoded_forms(value) {
                let chars: Vec<char> = form.chars().collect();
                if chars.len() < REDACTION_WINDOW {
                    short.push((chars, name.to_owned()));
                    continue;
                }
                for window in chars.windows(REDACTION_WINDOW) {
                    let names: &mut Vec<String> = windows.entry(window.to_vec()).or_default();
                    if !names.iter().any(|known| known == name) {
                        names.push(name.to_owned());
                    }
                }
            }
        }
        Self { windows, short }
    }

    /// The values of the register's dependencies present in this process's
    /// environment.
    pub fn from_environment(register: &Register) -> Self {
        let values: Vec<(&str, String)> = register
            .dependency_names()
            .into_iter()
            .filter_map(|name| {
                let value = std::env::var_os(name)?.into_string().ok()?;
                Some((name, value))
            })
            .collect();
        Self::new(values.iter().map(|(name, value)| (*name, value.as_str())))
    }

    /// `text` with every run that matches a secret's form replaced by
    /// `[redacted NAME]`. Overlapping or touching matches become one marker.
    pub fn redact(&self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        // (start, length, name) of every match, by start.
        let mut hits: Vec<(usize, usize, &str)> = Vec::new();
        if chars.len() >= REDACTION_WINDOW {
            for (start, window) in chars.windows(REDACTION_WINDOW).enumerate() {
                for name in self.windows.get(window).into_iter().flatten() {
                    hits.push((start, REDACTION_WINDOW, name));
                }
            }
        }
        for (value, name) in &self.short {
            for start in 0..=chars.len().saturating_sub(value.len()) {
                if chars.get(start..start + value.len()) == Some(value.as_slice()) {
                    hits.push((start, value.len(), name));
                }
            }
        }
        hits.sort_by_key(|&(start, _, _)| start);
        let mut covered = vec![false; chars.len()];
        for &(start, length, _) in &hits {
            covered[start..start + length].fill(true);
        }
        let mut out = String::with_capacity(text.len());
        let mut next_hit = 0;
        let mut at = 0;
        while at < chars.len() {
            if !covered[at] {
                out.push(chars[at]);
                at += 1;
                continue;
            }
            let end = (at..chars.len())
                .find(|&i| !covered[i])
                .unwrap_or(chars.len());
            // The run is named after the value most of its matches belong to:
            // values may share pieces (a common prefix, `https://`).
            let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
            while next_hit < hits.len() && hits[next_hit].0 < end {
                *votes.entry(hits[next_hit].2).or_default() += 1;
                next_hit += 1;
            }
            let name = votes
                .iter()
                .max_by_key(|&(_, count)| *count)
                .map_or("secret", |(name, _)| *name);
            out.push_str("[redacted ");
            out.push_str(name);
            out.push(']');
            at = end;
        }
        out
    }
}

/// Replaces every trace of the value of each declared dependency present in
/// this process's environment (see [`Redactor`]) with `[redacted NAME]`, so a
/// proof's output cannot carry a secret, whole or in pieces, into the database
/// or a page. Applied to the whole text, before any cut.
pub fn redact_secrets(register: &Register, text: &str) -> String {
    Redactor::from_environment(register).redact(text)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::Redactor;

    #[test]
    fn values_sharing_pieces_are_each_named_after_their_own() {
        let redactor = Redactor::new([
            ("FIRST_KEY", "first-0123456789-shared-suffix"),
            ("SECOND_KEY", "second-abcdefghij-shared-suffix"),
        ]);
        let text = "a second-abcdefghij-shared-suffix b first-0123456789-shared-suffix c";
        assert_eq!(
            redactor.redact(text),
            "a [redacted SECOND_KEY] b [redacted FIRST_KEY] c"
        );
    }

    #[test]
    fn short_values_are_matched_whole_and_tiny_ones_left_alone() {
        let redactor = Redactor::new([("PIN", "4711x"), ("TINY", "ab")]);
        assert_eq!(redactor.redact("pin 4711x, ab"), "pin [redacted PIN], ab");
    }

    #[test]
    fn base64_of_a_value_inside_a_longer_string_is_found_at_every_offset() {
        let value = "s3cr3t-value-for-offsets";
        let redactor = Redactor::new([("KEY", value)]);
        for prefix in ["", "u", "us", "user:"] {
            let encoded = STANDARD.encode(format!("{prefix}{value}"));
            let redacted = redactor.redact(&encoded);
            assert!(
                redacted.contains("[redacted KEY]"),
                "{prefix:?}: {redacted}"
            );
            assert!(redacted.len() < encoded.len(), "{prefix:?}: {redacted}");
        }
    }
}
