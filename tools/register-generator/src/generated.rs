//! What the generator makes up: the vocabularies generated text is drawn from,
//! the generated proofs and blockers, and the fixed-seed random source that picks
//! the words.
//!
//! Everything here is a function of the seed and the call order alone, so the
//! same blocker count always gives the same register.

use crate::file::{BlockerTable, ProofTable, ScopeTable};

/// The generator's seed: any constant will do, as long as it never changes.
const SEED: u64 = 0x00C1_EA2A_2CE0_5EED;

/// Scopes added to the default register's three (private beta, paid launch,
/// enterprise): id and label.
pub const EXTRA_SCOPES: [(&str, &str); 5] = [
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

/// A dependency name shaped like an environment variable (`SERVICE_0421_API_KEY`):
/// vendor, `number`, suffix.
pub fn dependency_name(number: usize, random: &mut SplitMix64) -> String {
    format!(
        "{}_{number:04}_{}",
        random.pick(&VENDORS),
        random.pick(&SUFFIXES)
    )
}

/// The proof at `index`: its area is the index's (round robin), its command names
/// one of the dependency names as the secret it needs.
pub fn proof(index: usize, dependency_names: &[String], random: &mut SplitMix64) -> ProofTable {
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
    ProofTable {
        id,
        name: format!("{title} {feature} proof {number:03}"),
        command,
    }
}

/// The blocker at `index`: a random area, scope and wording, one to four of the
/// dependency names, and preferably a proof of its own area.
pub fn blocker(
    index: usize,
    scopes: &[ScopeTable],
    proofs: &[ProofTable],
    dependency_names: &[String],
    random: &mut SplitMix64,
) -> BlockerTable {
    let area = random.below(AREAS.len());
    let (word, title_word) = AREAS[area];
    // A second area, mentioned in the running text only.
    let (other, _) = AREAS[(area + 1 + random.below(AREAS.len() - 1)) % AREAS.len()];
    let feature = random.pick(&FEATURES);
    let object = random.pick(&OBJECTS);
    let audience = random.pick(&AUDIENCES);
    let scope = &random.pick(scopes).id;

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

    BlockerTable {
        id: format!("{word}-{feature}-{:04}", index + 1),
        title,
        required_for,
        scope: scope.clone(),
        dependencies,
        proof: proof.id.clone(),
        if_missing,
    }
}

/// SplitMix64: a tiny, well-mixed generator; plenty for picking words.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator at the fixed seed, where every register starts.
    pub fn seeded() -> Self {
        Self(SEED)
    }

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
