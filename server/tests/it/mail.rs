//! E-mail through a real SMTP server: `end2end/receivers/smtp-sink.mjs`
//! (the `smtp-server` npm package, with AUTH required) receives what the worker
//! sends and writes each mail, parsed by `mailparser`, as a JSON line the tests
//! read. Invitations reach the invited address; a motion subscription mails
//! that motion only; a stale acceptance reaches its own tenant's sponsor and
//! no other; an unsubscribe link stops the mail; a relay that is down leaves
//! mail pending until it is back; the SMTP password appears in no log or row.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use http::{header, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;

use app::domain::launch_room::AcceptanceForm;
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::domain::{evaluate, DependencyState, PublicCheck, ReadinessInputs, Register};
use app::live_state::ReadinessSnapshot;
use leptos::prelude::LeptosOptions;
use server::events::{rooms_watch, worker};
use server::mail::MailSettings;
use server::public_url::PublicUrl;
use server::readiness::snapshots;
use server::rooms::{self, Submission};
use server::startup::{self, Settings};
use server::webhooks::{deliver, WebhookSettings};

use crate::common::{
    attach_everything, cookie_pair, get_with, post_form, send, sign_in_request, world, PASSWORD,
};

const SMTP_USER: &str = "clearance-relay";
const SMTP_PASSWORD: &str = "Smtp-Pa55word-9f3c+Q7x";
const PUBLIC_URL: &str = "https://clearance.example";

/// The SMTP sink, running; killed when dropped.
struct Sink {
    child: Child,
    port: u16,
    file: PathBuf,
}

impl Sink {
    async fn start(file: PathBuf, port: u16) -> Self {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/receivers/smtp-sink.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg(&file)
            .args(["--port", &port.to_string()])
            .env("SMTP_SINK_USER", SMTP_USER)
            .env("SMTP_SINK_PASSWORD", SMTP_PASSWORD)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs end2end/receivers/smtp-sink.mjs (cd end2end && npm install)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the sink starts")
            .unwrap()
            .expect("the sink prints its port");
        let port = serde_json::from_str::<Value>(&first).unwrap()["port"]
            .as_u64()
            .unwrap() as u16;
        Self { child, port, file }
    }

    fn mails(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    async fn stop(mut self) -> (u16, PathBuf) {
        self.child.kill().await.unwrap();
        (self.port, self.file.clone())
    }
}

fn sink_file(name: &str) -> PathBuf {
    let file = std::env::temp_dir().join(format!(
        "clearance-mail-{name}-{}-{}.jsonl",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let _ = std::fs::remove_file(&file);
    file
}

fn settings(port: u16) -> MailSettings {
    let mut settings = MailSettings::new(
        SecretString::from(format!(
            "smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}"
        )),
        "Clearance <clearance@example.com>",
    )
    .unwrap();
    settings.timeout = Duration::from_secs(5);
    settings.retry_base = Duration::from_millis(50);
    settings.retry_max = Duration::from_millis(200);
    settings
}

/// The test app with e-mail configured.
async fn app_with_mail(pool: &PgPool, mail: MailSettings) -> axum::Router {
    let leptos_options = LeptosOptions::builder().output_name("clearance").build();
    let register =
        Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register"));
    startup::build(
        crate::common::serving_pool(pool),
        Settings {
            page_cache_entries: 0,
            public_url: PUBLIC_URL.parse::<PublicUrl>().unwrap(),
            mail: Some(mail),
            ..crate::common::settings(register, leptos_options)
        },
    )
    .await
    .router
}

/// Runs worker rounds until `sink` has `count` mails (or 20 s pass).
async fn deliver_until(
    pool: &PgPool,
    sink: &Sink,
    mail: &MailSettings,
    count: usize,
) -> Vec<Value> {
    let webhooks = WebhookSettings::default();
    let client = deliver::client(&webhooks).unwrap();
    let mailer = (mail.clone(), server::mail::send::transport(mail).unwrap());
    for _ in 0..200 {
        worker::run_once(pool, &client, &webhooks, PUBLIC_URL, Some(&mailer))
            .await
            .unwrap();
        let mails = sink.mails();
        if mails.len() >= count {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sink.mails()
}

/// A few rounds more, for mail that must not come.
async fn settle(pool: &PgPool, mail: &MailSettings) {
    let webhooks = WebhookSettings::default();
    let client = deliver::client(&webhooks).unwrap();
    let mailer = (mail.clone(), server::mail::send::transport(mail).unwrap());
    for _ in 0..5 {
        worker::run_once(pool, &client, &webhooks, PUBLIC_URL, Some(&mailer))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn thesmios() -> Register {
    parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap()
}

/// Readiness inputs with `configured` dependencies and every proof passing.
fn inputs(configured: &[&str]) -> ReadinessInputs {
    ReadinessInputs {
        dependencies: configured
            .iter()
            .map(|name| ((*name).to_owned(), DependencyState::Configured))
            .collect::<BTreeMap<_, _>>(),
        public_checks: vec![PublicCheck {
            name: "database reachable".to_owned(),
            passed: true,
            detail: None,
        }],
        proofs: thesmios()
            .proofs
            .iter()
            .map(|proof| (proof.id.clone(), true))
            .collect(),
    }
}

async fn record(pool: &PgPool, inputs: ReadinessInputs) {
    let register = thesmios();
    let snapshot = ReadinessSnapshot::new("environment", inputs, Utc::now());
    let evaluation = evaluate(&register, &snapshot.inputs);
    snapshots::record(pool, &register, &snapshot, &evaluation)
        .await
        .unwrap();
}

fn every_dependency() -> Vec<String> {
    thesmios()
        .dependency_names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

async fn signed_in(app: &axum::Router, email: &str) -> String {
    let answer = send(app, sign_in_request(email, PASSWORD, "/")).await;
    cookie_pair(&answer.cookie.expect("signed in"))
}

fn to(mail: &Value) -> String {
    mail["to"][0].as_str().unwrap_or_default().to_owned()
}

/// The unsubscribe link in a mail's text body.
fn unsubscribe_link(mail: &Value) -> String {
    let text = mail["text"].as_str().unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("Unsubscribe: "))
        .or_else(|| {
            text.lines()
                .find_map(|line| line.split("this address: ").nth(1))
        })
        .expect("an unsubscribe link in the text body")
        .trim()
        .to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invitation_is_mailed_to_the_invited_address_and_still_shown_once(pool: PgPool) {
    let sink = Sink::start(sink_file("invite"), 0).await;
    let mail = settings(sink.port);
    let app = app_with_mail(&pool, mail.clone()).await;
    let w = world(&pool).await;
    let operator = signed_in(&app, "ops@example.com").await;
    let created = app
        .clone()
        .oneshot(post_form(
            "/admin/invitations",
            Some(&operator),
            &[
                ("tenant", &w.a.to_string()),
                ("email", "New.Sponsor@Acme.example"),
                ("days", "7"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.contains("mailed+to+new.sponsor%40acme.example"),
        "{location}"
    );
    let link_cookie = created
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("clearance_new_invitation="))
        .map(cookie_pair)
        .expect("the link is still shown once");
    let page = send(
        &app,
        get_with(&location, &format!("{operator}; {link_cookie}")),
    )
    .await;
    let shown = page
        .body
        .split(r#"data-testid="invitation-link">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    assert!(page
        .body
        .contains("The invitation was mailed to new.sponsor@acme.example."));

    let mails = deliver_until(&pool, &sink, &mail, 1).await;
    let invitation = mails
        .iter()
        .find(|mail| to(mail) == "new.sponsor@acme.example")
        .expect("the invitation reached the invited address");
    assert_eq!(invitation["authenticated_as"], SMTP_USER);
    assert!(invitation["subject"].as_str().unwrap().contains("Acme Ltd"));
    assert!(
        invitation["text"].as_str().unwrap().contains(&shown),
        "the same link as shown"
    );
    assert!(invitation["html"]
        .as_str()
        .unwrap()
        .contains(&format!("href=\"{shown}\"")));
    assert!(shown.starts_with("https://clearance.example/invite/"));
    let list_unsubscribe = invitation["headers"]["list-unsubscribe"].as_str().unwrap();
    assert!(list_unsubscribe.starts_with("<https://clearance.example/unsubscribe/"));
    assert_eq!(
        invitation["headers"]["list-unsubscribe-post"],
        "List-Unsubscribe=One-Click"
    );
    // Sent: the body (and so the token) is erased from the queue.
    let stored: Vec<String> = sqlx::query_scalar("SELECT row_to_json(m)::text FROM mail_outbox m")
        .fetch_all(&pool)
        .await
        .unwrap();
    let token = shown.rsplit('/').next().unwrap();
    for row in &stored {
        assert!(!row.contains(token), "{row}");
        assert!(!row.contains(SMTP_PASSWORD), "{row}");
    }
    assert!(stored.iter().any(|row| row.contains(r#""status":"sent""#)));

    // One click from the mail client (RFC 8058: no cookie, no Origin):
    // no more invitation mail to that address.
    let path = unsubscribe_link(invitation).replace(PUBLIC_URL, "");
    let clicked = app
        .clone()
        .oneshot(
            http::Request::post(&path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from("List-Unsubscribe=One-Click"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::SEE_OTHER);
    let again = send(
        &app,
        post_form(
            "/admin/invitations",
            Some(&operator),
            &[
                ("tenant", &w.a.to_string()),
                ("email", "new.sponsor@acme.example"),
                ("days", "7"),
            ],
        ),
    )
    .await;
    assert_eq!(again.location, "/admin#new-invitation", "shown, not mailed");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_motion_subscription_mails_that_motion_only_until_unsubscribed(pool: PgPool) {
    let sink = Sink::start(sink_file("motion"), 0).await;
    let mail = settings(sink.port);
    let app = app_with_mail(&pool, mail.clone()).await;
    world(&pool).await;
    let owner = signed_in(&app, "owner@example.com").await;
    let page = send(&app, get_with("/account/notifications", &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("A launch motion&#x27;s status changed")
            || page.body.contains("A launch motion's status changed")
    );
    assert!(page.body.contains("Self-serve paid launch"));
    let subscribed = send(
        &app,
        post_form(
            "/account/notifications",
            Some(&owner),
            &[
                ("event_type", "motion.status_changed"),
                ("motion", "self-serve-paid-launch"),
            ],
        ),
    )
    .await;
    assert_eq!(subscribed.status, StatusCode::SEE_OTHER);
    assert!(
        subscribed.location.contains("done="),
        "{}",
        subscribed.location
    );
    let refused = send(
        &app,
        post_form(
            "/account/notifications",
            Some(&owner),
            &[("event_type", "no.such")],
        ),
    )
    .await;
    assert!(refused.location.contains("error="));
    let public = send(
        &app,
        post_form(
            "/account/notifications",
            None,
            &[("event_type", "motion.status_changed")],
        ),
    )
    .await;
    assert_eq!(public.status, StatusCode::FORBIDDEN);

    // Nothing configured, then everything: self-serve and enterprise both
    // change status; only self-serve is mailed.
    record(&pool, inputs(&[])).await;
    let names = every_dependency();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    record(&pool, inputs(&all)).await;
    let mails = deliver_until(&pool, &sink, &mail, 1).await;
    settle(&pool, &mail).await;
    let mails_after = sink.mails();
    assert_eq!(mails_after.len(), mails.len(), "no further mail");
    let owner_mails: Vec<&Value> = mails_after
        .iter()
        .filter(|m| to(m) == "owner@example.com")
        .collect();
    assert_eq!(owner_mails.len(), 1, "{mails_after:#?}");
    let status = owner_mails[0];
    assert!(status["subject"]
        .as_str()
        .unwrap()
        .contains("Self-serve paid launch is now"));
    assert!(status["text"]
        .as_str()
        .unwrap()
        .contains("https://clearance.example/motions/self-serve-paid-launch"));
    assert!(status["html"]
        .as_str()
        .unwrap()
        .contains("href=\"https://clearance.example/motions/self-serve-paid-launch\""));
    assert!(status["html"]
        .as_str()
        .unwrap()
        .contains(">Unsubscribe</a>"));
    let link = unsubscribe_link(status);
    assert!(status["headers"]["list-unsubscribe"]
        .as_str()
        .unwrap()
        .contains(&link));

    // The link's page, its confirmation, then no more mail.
    let path = link.replace(PUBLIC_URL, "");
    let confirm = send(
        &app,
        http::Request::get(&path)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Stop mail to owner@example.com"),
        "{}",
        confirm.body
    );
    let done = send(&app, post_form(&path, None, &[])).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let after = send(
        &app,
        http::Request::get(&path)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert!(after.body.contains("You are unsubscribed"));
    let unknown = send(
        &app,
        http::Request::get("/unsubscribe/not-a-token")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    record(&pool, inputs(&[])).await;
    settle(&pool, &mail).await;
    assert_eq!(
        sink.mails().len(),
        mails_after.len(),
        "unsubscribed: nothing more"
    );
}

/// Captured log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stale_acceptance_reaches_its_own_sponsor_even_after_the_relay_was_down(pool: PgPool) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sink = Sink::start(sink_file("stale"), 0).await;
    let mail = settings(sink.port);
    let _app = app_with_mail(&pool, mail.clone()).await;
    let w = world(&pool).await;
    let register = thesmios();
    // Both sponsors were subscribed automatically when they accepted.
    let automatic: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM mail_subscriptions WHERE automatic AND event_types = ARRAY['acceptance.stale']",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(automatic, 2);

    let before = inputs(&[]);
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    attach_everything(&pool, &w.operator, "borealis", "REF-2").await;
    for sponsor in [&w.sponsor_a, &w.sponsor_b] {
        let form = AcceptanceForm {
            signer_name: "Ada Buyer".to_owned(),
            signer_role: "COO".to_owned(),
            approval_reference: "PO-1".to_owned(),
            readiness_digest: before.digest(),
            ..AcceptanceForm::default()
        };
        rooms::submit(
            &pool,
            &register,
            &before,
            sponsor,
            None,
            Submission::Accept(&form),
        )
        .await
        .unwrap();
    }
    rooms_watch::record(&pool, &register, &before, Utc::now())
        .await
        .unwrap();
    // Only Acme goes stale: Borealis's sponsor unsubscribes from it first, so
    // it must get nothing; and the relay is down when the event fans out.
    sqlx::query(
        "DELETE FROM mail_subscriptions s USING accounts a
         WHERE a.id = s.account_id AND a.email = 'sponsor@borealis.example'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (port, file) = sink.stop().await;
    let changed = inputs(&["RESEND_API_KEY"]);
    let stale = rooms_watch::record(&pool, &register, &changed, Utc::now())
        .await
        .unwrap();
    assert_eq!(stale, 2, "both rooms went stale");
    settle(&pool, &mail).await;
    let pending: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
        "SELECT recipient, status, attempts, last_error FROM mail_outbox WHERE kind = 'stale_acceptance'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].0, "sponsor@acme.example");
    assert_eq!(pending[0].1, "pending");
    assert!(pending[0].2 >= 1, "tried while the relay was down");
    assert!(pending[0].3.is_some());

    // Back on the same port: delivered.
    let sink = Sink::start(file, port).await;
    let mails = deliver_until(&pool, &sink, &mail, 1).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let stale_mail = &mails[0];
    assert_eq!(to(stale_mail), "sponsor@acme.example");
    assert!(stale_mail["subject"]
        .as_str()
        .unwrap()
        .contains("Acme Ltd: launch acceptance went stale"));
    let text = stale_mail["text"].as_str().unwrap();
    assert!(text.contains("What changed since the signature:"), "{text}");
    assert!(
        text.contains("What changed since the signature: RESEND_API_KEY: missing → configured"),
        "{text}"
    );
    assert!(stale_mail["html"]
        .as_str()
        .unwrap()
        .contains("What changed since the signature"));
    assert!(text.contains("Unsubscribe: https://clearance.example/unsubscribe/"));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("mail not sent; will retry"),
        "the outage was logged"
    );
    assert!(
        !log.contains(SMTP_PASSWORD),
        "the SMTP password is never logged"
    );
    assert!(!log.contains("smtp://"), "nor the relay URL");
    let rows: Vec<String> = sqlx::query_scalar("SELECT row_to_json(m)::text FROM mail_outbox m")
        .fetch_all(&pool)
        .await
        .unwrap();
    for row in rows {
        assert!(!row.contains(SMTP_PASSWORD), "{row}");
    }
}
