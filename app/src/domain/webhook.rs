//! Webhook endpoints as operators describe them: the form (from the page or the
//! API) and its checks against the event catalogue, the register's motions and
//! the tenants that exist. Where a URL may point is the server's rule, passed in
//! as a function, so this stays pure.

use serde::{Deserialize, Serialize};

use crate::domain::access::FieldError;
use crate::domain::events::EventType;
use crate::domain::register::Register;
use crate::domain::tenant::Tenant;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Longest URL, in characters (as stored, after normalising).
pub const MAX_URL_CHARS: usize = 2_000;
/// How much of a refused value an error message repeats.
const ECHO_CHARS: usize = 60;

/// What a delivery's body looks like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// The event as Standard Webhooks JSON.
    #[default]
    Standard,
    /// A Slack-compatible message (`{"text": …}`), for an incoming webhook.
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Slack => "slack",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "standard" => Some(Self::Standard),
            "slack" => Some(Self::Slack),
            _ => None,
        }
    }
}

/// A tenant named by its id (a JSON number) or its slug (a string).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum TenantRef {
    Id(i64),
    Slug(String),
}

/// An endpoint as an operator sends it. Empty lists mean "every".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndpointForm {
    /// Where deliveries are POSTed: an http(s) URL.
    pub url: String,
    /// For people: what the endpoint is for (at most 500 characters).
    #[serde(default)]
    pub description: String,
    /// Event type names (`GET /api/event-types`); empty: every type.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Launch motion ids from the register; empty: every motion.
    #[serde(default)]
    pub motions: Vec<String>,
    /// Tenants, by id or slug; empty: every tenant.
    #[serde(default)]
    pub tenants: Vec<TenantRef>,
    /// `standard` or `slack`.
    #[serde(default = "standard")]
    pub format: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn standard() -> String {
    WebhookFormat::Standard.as_str().to_owned()
}

fn yes() -> bool {
    true
}

impl EndpointForm {
    /// The page's form post: repeated `event_type`, `motion` and `tenant`
    /// checkboxes, `format`, and `enabled` present when ticked.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut form = Self {
            url: String::new(),
            description: String::new(),
            event_types: Vec::new(),
            motions: Vec::new(),
            tenants: Vec::new(),
            format: standard(),
            enabled: false,
        };
        for (key, value) in pairs {
            let value = value.into();
            match key.as_ref() {
                "url" => form.url = value,
                "description" => form.description = value,
                "event_type" => form.event_types.push(value),
                "motion" => form.motions.push(value),
                "tenant" => form.tenants.push(TenantRef::Slug(value)),
                "format" => form.format = value,
                "enabled" => form.enabled = !value.is_empty() && value != "false",
                _ => {}
            }
        }
        form
    }
}

/// An endpoint's settings, checked: what is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedEndpoint {
    pub url: String,
    pub description: String,
    /// Sorted, without repeats.
    pub event_types: Vec<EventType>,
    pub motions: Vec<String>,
    pub tenant_ids: Vec<i64>,
    pub format: WebhookFormat,
    pub enabled: bool,
}

/// A value as an error message may repeat it: short, without control characters.
fn echo(value: &str) -> String {
    let shown: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(ECHO_CHARS)
        .collect();
    if value.chars().count() > ECHO_CHARS {
        format!("{shown}…")
    } else {
        shown
    }
}

/// Checks `form` against the catalogue, `register`'s motions and `tenants`;
/// `destination` checks (and normalises) the URL, or says why it is refused.
/// Every fault is reported, each naming its field.
pub fn check_endpoint(
    form: &EndpointForm,
    register: &Register,
    tenants: &[Tenant],
    destination: impl FnOnce(&str) -> Result<String, String>,
) -> Result<CheckedEndpoint, Vec<FieldError>> {
    let mut errors = Vec::new();

    let url = check_url(&form.url, destination).unwrap_or_else(|error| {
        errors.push(error);
        String::new()
    });

    let description = form.description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push(FieldError::new(
            "description",
            format!("keep the description to {MAX_DESCRIPTION_CHARS} characters"),
        ));
    } else if description.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "description",
            "the description cannot contain control characters or line breaks",
        ));
    }

    let mut event_types = Vec::new();
    for name in &form.event_types {
        match EventType::parse(name.trim()) {
            Some(kind) => event_types.push(kind),
            None => errors.push(FieldError::new(
                "event_types",
                format!(
                    "unknown event type \"{}\" (the catalogue: GET /api/event-types)",
                    echo(name)
                ),
            )),
        }
    }
    event_types.sort_unstable();
    event_types.dedup();

    let mut motions = Vec::new();
    for id in &form.motions {
        match register.motion(id.trim()) {
            Some(motion) => motions.push(motion.id.clone()),
            None => errors.push(FieldError::new(
                "motions",
                format!("no launch motion \"{}\" in the register", echo(id)),
            )),
        }
    }
    motions.sort_unstable();
    motions.dedup();

    let mut tenant_ids = Vec::new();
    for named in &form.tenants {
        let found = match named {
            TenantRef::Id(id) => tenants.iter().find(|tenant| tenant.id == *id),
            TenantRef::Slug(slug) => {
                let slug = slug.trim().to_lowercase();
                tenants.iter().find(|tenant| tenant.slug == slug)
            }
        };
        match found {
            Some(tenant) => tenant_ids.push(tenant.id),
            None => errors.push(FieldError::new(
                "tenants",
                format!(
                    "no tenant {}",
                    match named {
                        TenantRef::Id(id) => format!("with id {id}"),
                        TenantRef::Slug(slug) => format!("\"{}\"", echo(slug)),
                    }
                ),
            )),
        }
    }
    tenant_ids.sort_unstable();
    tenant_ids.dedup();

    let format = WebhookFormat::parse(&form.format).unwrap_or_else(|| {
        errors.push(FieldError::new("format", "choose standard or slack"));
        WebhookFormat::Standard
    });

    if errors.is_empty() {
        Ok(CheckedEndpoint {
            url,
            description,
            event_types,
            motions,
            tenant_ids,
            format,
            enabled: form.enabled,
        })
    } else {
        Err(errors)
    }
}

fn check_url(
    url: &str,
    destination: impl FnOnce(&str) -> Result<String, String>,
) -> Result<String, FieldError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(FieldError::new(
            "url",
            "enter the URL deliveries are sent to, such as https://hooks.example.com/clearance",
        ));
    }
    if url.chars().count() > MAX_URL_CHARS || url.chars().any(char::is_control) {
        return Err(FieldError::new(
            "url",
            format!(
                "enter a URL of at most {MAX_URL_CHARS} characters, without control characters"
            ),
        ));
    }
    let normalised = destination(url).map_err(|message| FieldError::new("url", message))?;
    if normalised.chars().count() > MAX_URL_CHARS {
        return Err(FieldError::new(
            "url",
            format!("the URL is longer than {MAX_URL_CHARS} characters once normalised"),
        ));
    }
    Ok(normalised)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;
    use crate::domain::launch_room::BillingRoute;
    use crate::domain::register_file::{parse_register, DEFAULT_REGISTER};

    fn register() -> Register {
        parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap()
    }

    fn tenant(id: i64, slug: &str) -> Tenant {
        Tenant {
            id,
            slug: slug.to_owned(),
            name: slug.to_owned(),
            motion: String::new(),
            billing_route: BillingRoute::InvoiceOnly,
            created_at: chrono::Utc::now(),
        }
    }

    fn accept(url: &str) -> Result<String, String> {
        Ok(url.to_owned())
    }

    fn form(url: &str) -> EndpointForm {
        EndpointForm {
            url: url.to_owned(),
            description: String::new(),
            event_types: Vec::new(),
            motions: Vec::new(),
            tenants: Vec::new(),
            format: "standard".to_owned(),
            enabled: true,
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn a_complete_form_is_checked_into_sorted_values_without_repeats() {
        let register = register();
        let motion = register.motions[0].id.clone();
        let tenants = [tenant(7, "acme"), tenant(9, "borealis")];
        let checked = check_endpoint(
            &EndpointForm {
                description: "  Ops channel ".to_owned(),
                event_types: vec![
                    "proof.failed".to_owned(),
                    "motion.status_changed".to_owned(),
                    "proof.failed".to_owned(),
                ],
                motions: vec![motion.clone()],
                tenants: vec![
                    TenantRef::Slug("borealis".to_owned()),
                    TenantRef::Id(7),
                    TenantRef::Slug("Acme".to_owned()),
                ],
                format: "slack".to_owned(),
                ..form(" https://hooks.example.com/x ")
            },
            &register,
            &tenants,
            accept,
        )
        .unwrap();
        assert_eq!(checked.url, "https://hooks.example.com/x");
        assert_eq!(checked.description, "Ops channel");
        assert_eq!(
            checked.event_types,
            vec![EventType::MotionStatusChanged, EventType::ProofFailed]
        );
        assert_eq!(checked.motions, vec![motion]);
        assert_eq!(checked.tenant_ids, vec![7, 9]);
        assert_eq!(checked.format, WebhookFormat::Slack);
        assert!(checked.enabled);
    }

    #[test]
    fn every_fault_is_reported_with_its_field() {
        let errors = check_endpoint(
            &EndpointForm {
                description: "x".repeat(MAX_DESCRIPTION_CHARS + 1),
                event_types: vec!["proof.exploded".to_owned()],
                motions: vec!["no-such-motion".to_owned()],
                tenants: vec![TenantRef::Slug("nobody".to_owned()), TenantRef::Id(404)],
                format: "teams".to_owned(),
                ..form("https://hooks.example.com/")
            },
            &register(),
            &[tenant(1, "acme")],
            accept,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            vec![
                "description",
                "event_types",
                "motions",
                "tenants",
                "tenants",
                "format"
            ]
        );
        assert!(errors[1].message.contains("\"proof.exploded\""));
        assert!(errors[4].message.contains("with id 404"));
    }

    #[test]
    fn the_url_is_required_bounded_and_judged_by_the_destination_rule() {
        let refuse = |_: &str| Err("127.0.0.1 is a loopback address".to_owned());
        let errors =
            check_endpoint(&form("http://127.0.0.1/"), &register(), &[], refuse).unwrap_err();
        assert_eq!(
            errors,
            vec![FieldError::new("url", "127.0.0.1 is a loopback address")]
        );
        for url in [
            "",
            "   ",
            "https://a.example/\u{0}",
            &"h".repeat(MAX_URL_CHARS + 1),
        ] {
            let errors = check_endpoint(&form(url), &register(), &[], accept).unwrap_err();
            assert_eq!(fields(&errors), vec!["url"], "{url:?}");
        }
    }

    #[test]
    fn control_characters_in_the_description_are_refused() {
        let errors = check_endpoint(
            &EndpointForm {
                description: "a\u{0}b".to_owned(),
                ..form("https://hooks.example.com/")
            },
            &register(),
            &[],
            accept,
        )
        .unwrap_err();
        assert_eq!(fields(&errors), vec!["description"]);
    }

    #[test]
    fn long_refused_values_are_echoed_short() {
        let errors = check_endpoint(
            &EndpointForm {
                event_types: vec!["y".repeat(10_000)],
                ..form("https://hooks.example.com/")
            },
            &register(),
            &[],
            accept,
        )
        .unwrap_err();
        assert!(
            errors[0].message.chars().count() < 150,
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn the_page_form_reads_repeated_checkboxes_and_an_unticked_box_as_off() {
        let form = EndpointForm::from_pairs([
            ("url", "https://hooks.example.com/"),
            ("event_type", "proof.failed"),
            ("event_type", "blocker.live"),
            ("motion", "self-serve"),
            ("tenant", "acme"),
            ("format", "slack"),
        ]);
        assert_eq!(form.event_types, vec!["proof.failed", "blocker.live"]);
        assert_eq!(form.motions, vec!["self-serve"]);
        assert_eq!(form.tenants, vec![TenantRef::Slug("acme".to_owned())]);
        assert_eq!(form.format, "slack");
        assert!(!form.enabled);
        assert!(EndpointForm::from_pairs([("enabled", "on")]).enabled);
    }

    #[test]
    fn json_names_tenants_by_id_or_slug_and_defaults_to_every_event_enabled() {
        let form: EndpointForm = serde_json::from_str(
            r#"{"url": "https://hooks.example.com/", "tenants": [3, "acme"]}"#,
        )
        .unwrap();
        assert_eq!(
            form.tenants,
            vec![TenantRef::Id(3), TenantRef::Slug("acme".to_owned())]
        );
        assert!(form.enabled);
        assert_eq!(form.format, "standard");
        assert!(form.event_types.is_empty());
        assert!(serde_json::from_str::<EndpointForm>(
            r#"{"url": "https://hooks.example.com/", "secret": "mine"}"#
        )
        .is_err());
    }
}
