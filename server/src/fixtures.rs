//! Synthetic register files for load tests and benchmarks.
//!
//! [`large_register`] writes a valid register file with as many blockers as asked.
//! Its page, decision, launch motions, customer evidence, evidence packs and
//! boundaries are the default register's; its scopes, proofs and blockers are
//! generated from small vocabularies, so that free-text search and facets narrow the
//! blockers the way they would in a real register. The output depends only on the
//! count (a fixed-seed generator, no randomness from the machine): the same count
//! always gives the same bytes, so figures from different runs describe one page.

use std::collections::HashSet;

use app::domain::register::{LaunchMotion, Register};
use app::domain::register_file::{parse_register, DEFAULT_REGISTER, DEFAULT_REGISTER_NAME};

/// The generator's seed: any constant will do, as long as it never changes.
const SEED: u64 = 0x00C1_EA2A_2CE0_5EED;

/// Scopes added to the default register's three (private beta, paid launch,
/// enterprise): id and label.
const EXTRA_SCOPES: [(&str, &str); 5] = [
    ("public-sector", "public sector"),
    ("eu-residency", "EU data residency"),
    ("healthcare", "healthcare"),
    ("partner-marketplace", "partner marketplace"),
    ("self-hosted", "self-hosted"),
];

/// Product areas: the words a search narrows by. Lower-case form (for ids and
/// running text) and title form.
const AREAS: [(&str, &str); 20] = [
    ("billing", "Billing"),
    ("sso", "SSO"),
    ("webhook", "Webhook"),
    ("export", "Export"),
    ("audit", "Audit"),
    ("scim", "SCIM"),
    ("invoice", "Invoice"),
    ("payroll", "Payroll"),
    ("notification", "Notification"),
    ("storage", "Storage"),
    ("retention", "Retention"),
    ("residency", "Residency"),
    ("onboarding", "Onboarding"),
    ("reporting", "Reporting"),
    ("identity", "Identity"),
    ("consent", "Consent"),
    ("backup", "Backup"),
    ("search", "Search"),
    ("analytics", "Analytics"),
    ("ledger", "Ledger"),
];

const FEATURES: [&str; 12] = [
    "signing",
    "connector",
    "sandbox",
    "delivery",
    "retry",
    "fixture",
    "callback",
    "rotation",
    "provisioning",
    "reconciliation",
    "throttling",
    "mapping",
];

const OBJECTS: [&str; 10] = [
    "credentials",
    "secret",
    "records",
    "certificate",
    "endpoint",
    "queue",
    "tenant",
    "schedule",
    "policy",
    "keys",
];

const AUDIENCES: [&str; 8] = [
    "design partners",
    "mid-market tenants",
    "enterprise buyers",
    "public sector buyers",
    "EU tenants",
    "healthcare providers",
    "channel partners",
    "self-hosted customers",
];

/// The first part of generated dependency names (`SERVICE_0421_API_KEY`).
const VENDORS: [&str; 16] = [
    "SERVICE",
    "STRIPE",
    "OKTA",
    "WORKDAY",
    "BAMBOOHR",
    "RESEND",
    "AZURE_AD",
    "SALESFORCE",
    "HUBSPOT",
    "XERO",
    "NETSUITE",
    "S3",
    "TWILIO",
    "SLACK",
    "DATADOG",
    "SENTRY",
];

/// The last part of generated dependency names.
const SUFFIXES: [&str; 10] = [
    "API_KEY",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "WEBHOOK_SECRET",
    "BASE_URL",
    "ACCESS_TOKEN",
    "SIGNING_KEY",
    "PRIVATE_KEY",
    "TENANT_ID",
    "REGION",
];

/// The smoke URL every generated proof command starts with, as in the default.
const SMOKE_URL: &str = "THESMIOS_SMOKE_URL=https://www.thesmios.com";

/// The TOML text of a valid register file with exactly `blockers` blockers.
///
/// About one proof per sixteen blockers (at least 4, at most 300), eight scopes,
/// three dependency names for every four blockers, each blocker naming one to four
/// of them, so names are shared. The four launch motions are the default
/// register's, their required blockers replaced by generated blockers of the same
/// scope.
pub fn large_register(blockers: usize) -> String {
    let default = default_register();
    let mut random = SplitMix64(SEED);

    let mut scopes: Vec<(String, String)> = default
        .scopes
        .iter()
        .map(|scope| (scope.id.clone(), scope.label.clone()))
        .collect();
    scopes.extend(
        EXTRA_SCOPES
            .iter()
            .map(|&(id, label)| (id.to_owned(), label.to_owned())),
    );
    let dependency_names: Vec<String> = (1..=(blockers * 3 / 4).max(8))
        .map(|number| {
            format!(
                "{}_{number:04}_{}",
                random.pick(&VENDORS),
                random.pick(&SUFFIXES)
            )
        })
        .collect();
    let proofs: Vec<GeneratedProof> = (0..(blockers / 16).clamp(4, 300))
        .map(|index| GeneratedProof::new(index, &dependency_names, &mut random))
        .collect();
    let generated: Vec<GeneratedBlocker> = (0..blockers)
        .map(|index| GeneratedBlocker::new(index, &scopes, &proofs, &dependency_names, &mut random))
        .collect();

    let mut toml = Toml::default();
    toml.comment(&format!(
        "Synthetic register with {blockers} blockers, written by `server generate-register`\n\
         for load tests and benchmarks. The page, decision, motions, customer evidence,\n\
         evidence packs and boundaries are the default register's; scopes, proofs and\n\
         blockers are generated (deterministically: the same count gives the same file)."
    ));
    toml.integer("schema_version", u64::from(default.schema_version));
    toml.string("organisation", &default.organisation);
    if generated.is_empty() {
        // Without any `[[blockers]]` table the key would be missing altogether.
        toml.strings("blockers", &[] as &[&str]);
    }

    toml.table("page");
    toml.string("title", &default.page.title);
    toml.string("headline", &default.page.headline);
    toml.string("introduction", &default.page.introduction);

    toml.table("decision");
    toml.string("statement", &default.decision.statement);
    toml.string(
        "strict_check_command",
        &default.decision.strict_check_command,
    );

    for (id, label) in &scopes {
        toml.array_table("scopes");
        toml.string("id", id);
        toml.string("label", label);
    }
    for proof in &proofs {
        toml.array_table("proofs");
        toml.string("id", &proof.id);
        toml.string("name", &proof.name);
        toml.string("command", &proof.command);
    }
    for blocker in &generated {
        toml.array_table("blockers");
        toml.string("id", &blocker.id);
        toml.string("title", &blocker.title);
        toml.string("required_for", &blocker.required_for);
        toml.string("scope", &blocker.scope);
        toml.strings("dependencies", &blocker.dependencies);
        toml.string("proof", &blocker.proof);
        toml.string("if_missing", &blocker.if_missing);
    }
    for motion in &default.motions {
        write_motion(&mut toml, motion, &default, &generated);
    }

    let evidence = &default.customer_evidence;
    toml.table("customer_evidence");
    toml.string("lead", &evidence.lead);
    toml.string("body", &evidence.body);
    for gate in &evidence.gates {
        toml.array_table("customer_evidence.gates");
        toml.string("id", &gate.id);
        toml.string("name", &gate.name);
        toml.string("owner", &gate.owner);
        toml.strings("items", &gate.items);
        toml.string("if_missing", &gate.if_missing);
        if gate.satisfied_by_acceptance {
            toml.string("satisfied_by", "acceptance");
        }
    }

    let packs = &default.evidence_packs;
    toml.table("evidence_packs");
    toml.string("lead", &packs.lead);
    toml.string("body", &packs.body);
    toml.inline_tables(
        "packs",
        packs
            .packs
            .iter()
            .map(|pack| [("path", pack.path.as_str()), ("title", pack.title.as_str())]),
    );

    toml.table("boundaries");
    toml.string("lead", &default.boundaries.lead);
    toml.strings("statements", &default.boundaries.statements);

    let readiness = &default.readiness;
    toml.table("readiness");
    if let Some(url) = &readiness.url {
        toml.string("url", url);
    }
    toml.integer("poll_interval_secs", readiness.poll_interval_secs);
    toml.integer("timeout_ms", readiness.timeout_ms);
    toml.integer("stale_after_secs", readiness.stale_after_secs);
    toml.integer(
        "proof_freshness_days",
        u64::from(readiness.proof_freshness_days),
    );
    toml.into_string()
}

fn default_register() -> Register {
    parse_register(DEFAULT_REGISTER_NAME, DEFAULT_REGISTER)
        .expect("the embedded default register is valid: the register unit tests parse it")
}

/// One of the default motions, its required blockers swapped for generated ones:
/// for each, the first generated blocker of the same scope not taken yet (or of
/// any scope, in a register too small to have one).
fn write_motion(
    toml: &mut Toml,
    motion: &LaunchMotion,
    default: &Register,
    generated: &[GeneratedBlocker],
) {
    let mut taken = HashSet::new();
    let cleared: Vec<&str> = motion
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
            Some(substitute.id.as_str())
        })
        .collect();

    toml.array_table("motions");
    toml.string("id", &motion.id);
    toml.string("name", &motion.name);
    if motion.short_name != motion.name {
        toml.string("short_name", &motion.short_name);
    }
    toml.string("summary", &motion.summary);
    toml.string("rule", &motion.rule);
    let requires = &motion.requires;
    toml.table("motions.requires");
    toml.boolean("public_checks", requires.public_checks);
    if requires.strict_readiness {
        toml.boolean("strict_readiness", true);
    }
    if !cleared.is_empty() {
        toml.strings("cleared_blockers", &cleared);
    }
    if !requires.conditional_scopes.is_empty() {
        toml.strings("conditional_scopes", &requires.conditional_scopes);
    }
    if !requires.evidence_gates.is_empty() {
        toml.strings("evidence_gates", &requires.evidence_gates);
    }
}

struct GeneratedProof {
    id: String,
    name: String,
    command: String,
}

impl GeneratedProof {
    fn new(index: usize, dependency_names: &[String], random: &mut SplitMix64) -> Self {
        let area = index % AREAS.len();
        let (word, title) = AREAS[area];
        let feature = random.pick(&FEATURES);
        let number = index + 1;
        let id = format!("{word}-{feature}-proof-{number:03}");
        let mut command = format!("{SMOKE_URL} {}=<secret>", random.pick(dependency_names));
        match random.below(4) {
            0 => command.push_str(" THESMIOS_NOTIFICATION_TEST_EMAIL=<test-email>"),
            1 => command.push_str(" THESMIOS_SCIM_TOKEN=<tenant-token>"),
            _ => {}
        }
        command.push_str(&format!(
            " npm run check:{word}-{feature}-fixture-{number:03}"
        ));
        if random.below(5) == 0 {
            command.push_str(&format!(
                " && CONFIRM_{}_FIXTURE=thesmios-{word}-fixture {SMOKE_URL} npm run check:{word}-{feature}-replay",
                word.to_uppercase()
            ));
        }
        Self {
            id,
            name: format!("{title} {feature} proof {number:03}"),
            command,
        }
    }
}

struct GeneratedBlocker {
    id: String,
    title: String,
    required_for: String,
    scope: String,
    dependencies: Vec<String>,
    proof: String,
    if_missing: String,
}

impl GeneratedBlocker {
    fn new(
        index: usize,
        scopes: &[(String, String)],
        proofs: &[GeneratedProof],
        dependency_names: &[String],
        random: &mut SplitMix64,
    ) -> Self {
        let area = random.below(AREAS.len());
        let (word, title_word) = AREAS[area];
        // A second area, mentioned in the running text only.
        let (other, _) = AREAS[(area + 1 + random.below(AREAS.len() - 1)) % AREAS.len()];
        let feature = random.pick(&FEATURES);
        let object = random.pick(&OBJECTS);
        let audience = random.pick(&AUDIENCES);
        let (scope, _) = random.pick(scopes);

        let mut title = format!("{title_word} {feature} {object}");
        if random.below(4) == 0 {
            title.push_str(&format!(" for {audience}"));
        }
        let required_for = match random.below(4) {
            0 => format!("Required before {word} {feature} can be sold as customer-live to {audience}."),
            1 => format!("Required for {word} {object} in production; {other} {feature} falls back to manual runs without it."),
            2 => format!("Required before the {word} {feature} {object} can move from managed setup to self-serve {other}."),
            _ => format!("Needed for {audience} contracts that include {word} and {other} commitments."),
        };
        let if_missing = match random.below(4) {
            0 => format!("Keep {word} {feature} manual and exclude it from the order form."),
            1 => format!("Do not claim {word} {object} as live; sell it as managed setup only."),
            2 => format!(
                "Run {word} as dry-run evidence and use manual customer communication for launch."
            ),
            _ => format!(
                "Scope {word} {feature} out of the launch claim until the {other} proof passes."
            ),
        };

        let wanted = 1 + random.below(4);
        let mut dependencies: Vec<String> = Vec::with_capacity(wanted);
        while dependencies.len() < wanted.min(dependency_names.len()) {
            let name = random.pick(dependency_names);
            if !dependencies.contains(name) {
                dependencies.push(name.clone());
            }
        }

        // Blockers prefer their area's proofs: those at `area`, `area + 20`, …
        let own = proofs.len().saturating_sub(area).div_ceil(AREAS.len());
        let proof = if own > 0 {
            &proofs[area + AREAS.len() * random.below(own)]
        } else {
            random.pick(proofs)
        };

        Self {
            id: format!("{word}-{feature}-{:04}", index + 1),
            title,
            required_for,
            scope: scope.clone(),
            dependencies,
            proof: proof.id.clone(),
            if_missing,
        }
    }
}

/// SplitMix64: a tiny, well-mixed generator; plenty for picking words.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`; `bound` must not be zero. The modulo bias is
    /// irrelevant for picking words.
    fn below(&mut self, bound: usize) -> usize {
        // usize is at most 64 bits, so both conversions are lossless.
        (self.next() % bound as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A TOML document written line by line. Strings are always basic strings with
/// every character TOML requires escaped, so any register text round-trips.
#[derive(Default)]
struct Toml {
    text: String,
}

impl Toml {
    fn comment(&mut self, text: &str) {
        for line in text.lines() {
            self.text.push_str("# ");
            self.text.push_str(line);
            self.text.push('\n');
        }
    }

    fn table(&mut self, name: &str) {
        self.text.push_str(&format!("\n[{name}]\n"));
    }

    fn array_table(&mut self, name: &str) {
        self.text.push_str(&format!("\n[[{name}]]\n"));
    }

    fn key(&mut self, key: &str) {
        self.text.push_str(key);
        self.text.push_str(" = ");
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        push_quoted(&mut self.text, value);
        self.text.push('\n');
    }

    fn strings(&mut self, key: &str, values: &[impl AsRef<str>]) {
        self.key(key);
        self.text.push('[');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.text.push_str(", ");
            }
            push_quoted(&mut self.text, value.as_ref());
        }
        self.text.push_str("]\n");
    }

    fn integer(&mut self, key: &str, value: u64) {
        self.key(key);
        self.text.push_str(&value.to_string());
        self.text.push('\n');
    }

    fn boolean(&mut self, key: &str, value: bool) {
        self.key(key);
        self.text.push_str(if value { "true" } else { "false" });
        self.text.push('\n');
    }

    /// An array of inline tables, one per line.
    fn inline_tables<'a, const N: usize>(
        &mut self,
        key: &str,
        tables: impl Iterator<Item = [(&'a str, &'a str); N]>,
    ) {
        self.key(key);
        self.text.push_str("[\n");
        for table in tables {
            self.text.push_str("  { ");
            for (index, (field, value)) in table.iter().enumerate() {
                if index > 0 {
                    self.text.push_str(", ");
                }
                self.text.push_str(field);
                self.text.push_str(" = ");
                push_quoted(&mut self.text, value);
            }
            self.text.push_str(" },\n");
        }
        self.text.push_str("]\n");
    }

    fn into_string(self) -> String {
        self.text
    }
}

/// Appends `value` as a TOML basic string.
fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}
