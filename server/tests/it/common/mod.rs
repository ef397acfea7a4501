//! The real router over a test database, as every HTTP test builds it.

pub mod served;

use std::sync::Arc;

use axum::body::Body;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use sqlx::PgPool;

use app::domain::access::{AccountSummary, Role, Viewer};
use app::domain::launch_room::EvidenceForm;
use app::domain::ledger::EvidenceAction;
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::domain::Register;
use app::live::LiveClearance;
use server::api::ApiToken;
use server::auth::accounts::{self, NewAccount};
use server::auth::invitations;
use server::auth::session::SessionSettings;
use server::page_cache;
use server::public_url::PublicUrl;
use server::readiness::{ReadinessMonitor, Source};
use server::rooms;
use server::startup::{self, Settings};
use server::tenants::{self, TenantForm};

pub struct TestApp {
    pub router: axum::Router,
    pub monitor: Arc<ReadinessMonitor>,
    pub clearance: LiveClearance,
    pub state: server::state::AppState,
}

/// The default register, read from this process's environment, with `api_token`
/// and `sessions` as given.
pub async fn test_app(
    pool: &PgPool,
    api_token: Option<&str>,
    sessions: SessionSettings,
) -> TestApp {
    let options = LeptosOptions::builder().output_name("clearance").build();
    test_app_with_options(pool, api_token, sessions, options).await
}

/// [`test_app`] with Leptos options of the test's own (a site root, say).
pub async fn test_app_with_options(
    pool: &PgPool,
    api_token: Option<&str>,
    sessions: SessionSettings,
    leptos_options: LeptosOptions,
) -> TestApp {
    build_test_app(
        pool,
        api_token,
        sessions,
        leptos_options,
        None,
        Default::default(),
    )
    .await
}

/// [`test_app`] served at the public address `public_url`.
pub async fn test_app_at(pool: &PgPool, public_url: &str, sessions: SessionSettings) -> TestApp {
    let options = LeptosOptions::builder().output_name("clearance").build();
    let public_url = public_url.parse().expect("a valid public address");
    build_test_app(
        pool,
        None,
        sessions,
        options,
        Some(public_url),
        Default::default(),
    )
    .await
}

/// The default test app with the edge's limits (proxies, timeouts, caps) as given.
pub async fn test_app_with_edge(pool: &PgPool, edge: server::edge::EdgeSettings) -> TestApp {
    let options = LeptosOptions::builder().output_name("clearance").build();
    build_test_app(pool, None, SessionSettings::default(), options, None, edge).await
}

async fn build_test_app(
    pool: &PgPool,
    api_token: Option<&str>,
    sessions: SessionSettings,
    leptos_options: LeptosOptions,
    public_url: Option<PublicUrl>,
    edge: server::edge::EdgeSettings,
) -> TestApp {
    let public_url =
        public_url.unwrap_or_else(|| PublicUrl::from_site_addr(leptos_options.site_addr));
    let register =
        Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register"));
    let server = startup::build(
        serving_pool(pool),
        Settings {
            api_token: api_token.map(|token| ApiToken::new(SecretString::from(token.to_owned()))),
            sessions,
            public_url,
            edge,
            ..settings(register, leptos_options)
        },
    )
    .await;
    TestApp {
        router: server.router,
        monitor: server.monitor,
        clearance: server.state.clearance.clone(),
        state: server.state,
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub location: String,
    pub cookie: Option<String>,
    pub body: String,
}

pub async fn send(app: &axum::Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("test request");
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|value| value.to_str().expect("test request").to_owned())
        .unwrap_or_default();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|value| value.to_str().expect("test request").to_owned());
    let body = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .expect("test request")
            .to_bytes()
            .to_vec(),
    )
    .expect("test request");
    Answer {
        status,
        location,
        cookie,
        body,
    }
}

pub fn sign_in_request(email: &str, password: &str, next: &str) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", password)
        .append_pair("next", next)
        .finish();
    Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("test request")
}

/// The `name=value` part of a Set-Cookie header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .expect("test request")
        .to_owned()
}

pub fn get_with(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("test request")
}

/// A same-origin form post, with the session cookie when given.
pub fn post_form(uri: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body)).expect("test request")
}

/// The default register.
pub fn register() -> Register {
    parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register")
}

/// A new tenant pursuing the managed private beta, invoice-only.
pub fn tenant_form(name: &str, slug: &str) -> TenantForm {
    TenantForm {
        name: name.to_owned(),
        slug: slug.to_owned(),
        motion: "managed-private-beta".to_owned(),
        billing_route: "invoice_only".to_owned(),
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn account(pool: &PgPool, email: &str, role: Role, tenant_id: Option<i64>) -> Viewer {
    let summary: AccountSummary = accounts::create(
        pool,
        &NewAccount {
            email,
            name: "Someone",
            role,
            tenant_id,
            password: PASSWORD,
        },
    )
    .await
    .expect("test setup");
    Viewer::Account(summary)
}

/// An operator, tenants A and B, and a sponsor of each (by invitation).
pub struct World {
    pub operator: Viewer,
    pub owner: Viewer,
    pub sponsor_a: Viewer,
    pub sponsor_b: Viewer,
    pub a: i64,
    pub b: i64,
}

pub async fn world(pool: &PgPool) -> World {
    let operator = account(pool, "ops@example.com", Role::Operator, None).await;
    let owner = account(pool, "owner@example.com", Role::CommercialOwner, None).await;
    let a = tenants::create(
        pool,
        &register(),
        &operator,
        &tenant_form("Acme Ltd", "acme"),
    )
    .await
    .expect("test setup")
    .id;
    let b = tenants::create(
        pool,
        &register(),
        &operator,
        &tenant_form("Borealis plc", "borealis"),
    )
    .await
    .expect("test setup")
    .id;
    let mut sponsors = Vec::new();
    for (tenant, email) in [(a, "sponsor@acme.example"), (b, "sponsor@borealis.example")] {
        let created = invitations::create(pool, &operator, tenant, email, 7)
            .await
            .expect("test setup");
        let account = invitations::accept(pool, &created.token, "Sam Sponsor", PASSWORD)
            .await
            .expect("test setup");
        assert_eq!(account.role, Role::BuyerSponsor);
        assert_eq!(account.tenant_id, Some(tenant));
        sponsors.push(Viewer::Account(account));
    }
    let sponsor_b = sponsors.pop().expect("test setup");
    let sponsor_a = sponsors.pop().expect("test setup");
    World {
        operator,
        owner,
        sponsor_a,
        sponsor_b,
        a,
        b,
    }
}

/// Attaches every evidence item the managed private beta needs to room `slug`,
/// each with `reference`, as an operator on a server of its own would.
pub async fn attach_everything(pool: &PgPool, operator: &Viewer, slug: &str, reference: &str) {
    let register = register();
    for gate_id in [
        "order-form-scope",
        "authenticated-tenant-access",
        "support-incident-fallback",
    ] {
        let items = register.gate(gate_id).expect("a seed gate").items.clone();
        for item in items {
            rooms::change_evidence(
                pool,
                &register,
                operator,
                slug,
                EvidenceAction::Attached,
                &EvidenceForm {
                    gate_id: gate_id.to_owned(),
                    item,
                    reference: reference.to_owned(),
                    note: String::new(),
                },
            )
            .await
            .expect("test setup");
        }
    }
}

/// The test app over a register of the test's own (with health checks, say).
pub async fn test_app_with_register(pool: &PgPool, register: Arc<Register>) -> TestApp {
    let leptos_options = LeptosOptions::builder().output_name("clearance").build();
    let server = startup::build(serving_pool(pool), settings(register, leptos_options)).await;
    TestApp {
        router: server.router,
        monitor: server.monitor,
        clearance: server.state.clearance.clone(),
        state: server.state,
    }
}

/// The URL of the test's own database (`#[sqlx::test]` made it), for a
/// server process or a command run on it.
/// The role the server serves as, as `scripts/lib.sh` creates it: a login role
/// in the group `clearance_server`, which migration 22 grants what the server
/// needs in every database (the test harness migrates each as the owner).
pub const SERVING_ROLE: &str = "clearance_app";

/// The URL of `pool`'s database for [`SERVING_ROLE`]: what the server serves
/// with, in the tests as in production.
pub fn serving_database_url(pool: &PgPool) -> String {
    let options = pool.connect_options();
    format!(
        "postgres://{SERVING_ROLE}:{SERVING_ROLE}@{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap()
    )
}

/// A pool on `pool`'s database as [`SERVING_ROLE`], built as the server builds
/// its own, for the router under test: every request a test sends runs with
/// the serving role's privileges, so a query the grants do not allow fails the
/// test. Closed when the test's own pool is (the harness then drops the
/// database, which must have no connections left).
pub fn serving_pool(pool: &PgPool) -> PgPool {
    let url = SecretString::from(serving_database_url(pool));
    let size = pool.options().get_max_connections();
    let serving = server::db::lazy_pool(&url, size).unwrap();
    let (owner, closing) = (pool.clone(), serving.clone());
    tokio::spawn(async move {
        owner.close_event().await;
        closing.close().await;
    });
    serving
}

pub fn database_url(pool: &PgPool) -> String {
    let mut url = url::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    url.set_path(&format!(
        "/{}",
        pool.connect_options().get_database().unwrap()
    ));
    url.to_string()
}

/// What every test server starts from: the given register served from this
/// process's environment, at http://<site address>, with nothing optional
/// configured (no API or metrics token, no mail, webhooks to public addresses
/// only). Tests change what they need with `..settings(…)`.
pub fn settings(register: Arc<Register>, leptos_options: LeptosOptions) -> Settings {
    Settings {
        register,
        source: Source::environment(),
        public_url: PublicUrl::from_site_addr(leptos_options.site_addr),
        leptos_options,
        api_token: None,
        sessions: SessionSettings::default(),
        page_cache_entries: page_cache::DEFAULT_ENTRIES,
        edge: Default::default(),
        webhooks: Default::default(),
        metrics_token: None,
        mail: None,
        log_key: test_log_key(),
    }
}

/// The log key's encoding, for a server process a test starts
/// (`CLEARANCE_LOG_KEY`).
pub fn log_key_secret() -> String {
    // One key for every server a test run starts: servers of one deployment
    // share the key file, and a server refuses a log another key signed.
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET
        .get_or_init(|| {
            let (secret, _) = server::log::LogKey::generate("clearance.test/log").expect("a key");
            secrecy::ExposeSecret::expose_secret(&secret).to_owned()
        })
        .clone()
}

/// A fresh log key for a test server (the test's own "file").
pub fn test_log_key() -> Arc<server::log::LogKey> {
    let (secret, _) = server::log::LogKey::generate("clearance.test/log").expect("a key");
    Arc::new(server::log::LogKey::from_secret(&secret).expect("it loads"))
}
