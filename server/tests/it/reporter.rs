//! The real reporter binary (`server report`) against a real server on an
//! ephemeral port: the sentinel test (no piece of any value leaves the reporter,
//! nor is stored or served), its exit codes, and the sidecar that keeps going.

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::{header, StatusCode};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use server::deployments::store;

use crate::common::send;
use crate::deployments::{deployment_app, request, stored};

/// Every value of a declared name in the reporter's environment, the row in the
/// table it checks, the check URL's query and the check's answer.
const SENTINEL: &str = "s3Nt-7Qx!kP2vR9wZm4L";

type Recorded = Arc<Mutex<Vec<u8>>>;

/// Keeps every request's method, path, headers (but the token) and body.
async fn record(State(log): State<Recorded>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    {
        let mut log = log.lock().unwrap();
        log.extend_from_slice(format!("{} {}\n", parts.method, parts.uri).as_bytes());
        for (name, value) in &parts.headers {
            if name != header::AUTHORIZATION {
                log.extend_from_slice(name.as_str().as_bytes());
                log.extend_from_slice(b": ");
                log.extend_from_slice(value.as_bytes());
                log.push(b'\n');
            }
        }
        log.extend_from_slice(&bytes);
        log.push(b'\n');
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

struct Served {
    addr: SocketAddr,
    recorded: Recorded,
    shutdown: CancellationToken,
    app: crate::common::TestApp,
}

async fn serve(pool: &PgPool, stale_after: Duration) -> Served {
    let app = deployment_app(pool, "production", stale_after).await;
    let recorded = Recorded::default();
    let router = app
        .router
        .clone()
        .layer(middleware::from_fn_with_state(recorded.clone(), record));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let edge = app.state.edge.clone();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move { server::listener::serve(listener, router, &edge, shutdown).await }
    });
    Served {
        addr,
        recorded,
        shutdown,
        app,
    }
}

/// A deployment's own service: answers its health check with the sentinel.
async fn checked_service() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route("/health", get(|| async { SENTINEL }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn reporter(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command.env_clear().arg("report").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Every 8-character piece of the sentinel, any of which would be a leak.
fn leaks(haystack: &[u8]) -> Vec<String> {
    let sentinel = SENTINEL.as_bytes();
    sentinel
        .windows(8)
        .filter(|piece| haystack.windows(8).any(|window| window == *piece))
        .map(|piece| String::from_utf8_lossy(piece).into_owned())
        .collect()
}

async fn everything_stored(pool: &PgPool) -> String {
    let snapshots: Option<String> = sqlx::query_scalar(
        "SELECT (SELECT json_agg(s)::text FROM readiness_snapshots s) || ' ' || \
                coalesce((SELECT json_agg(c)::text FROM readiness_changes c), '') || ' ' || \
                coalesce((SELECT json_agg(a)::text FROM access_events a), '')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    format!("{} {}", stored(pool).await, snapshots.unwrap_or_default())
}

#[sqlx::test(migrations = "../migrations")]
async fn no_piece_of_any_value_leaves_the_reporter_nor_is_stored_or_served(pool: PgPool) {
    // The deployment's tables: one holds a row (carrying the sentinel, which a
    // reporter that read rows would leak), one is empty.
    sqlx::raw_sql(&format!(
        "CREATE TABLE data_sets (id int, secret text); \
         INSERT INTO data_sets VALUES (1, '{SENTINEL}'); \
         CREATE TABLE data_set_records (id int);"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let served = serve(&pool, Duration::from_secs(60)).await;
    let token = store::create(&pool, "production").await.unwrap();
    let service = checked_service().await;
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);

    let names: Vec<String> = served
        .app
        .clearance
        .register
        .dependency_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let database = crate::common::database_url(&pool);
    let server_url = format!("http://{}", served.addr);
    let health = format!("api=http://user:{SENTINEL}@{service}/health?key={SENTINEL}");
    let down = format!("down=http://{closed_addr}/health");
    let mut env: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), SENTINEL)).collect();
    env.push(("CLEARANCE_REPORT_TOKEN", &token));
    env.push(("DATABASE_URL", &database));
    let output = run(reporter(
        &[
            "--server",
            &server_url,
            "--deployment",
            "production",
            "--check",
            &health,
            "--check",
            &down,
            "--check-timeout-ms",
            "2000",
        ],
        &env,
    ))
    .await;
    assert!(
        output.status.success(),
        "reporter failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    served.app.monitor.refresh().await;

    // What it sent: the names and verdicts, and nothing of any value.
    let sent = served.recorded.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&sent);
    assert!(text.contains("\"RESEND_API_KEY\":\"configured\""), "{text}");
    assert!(text.contains("\"data_sets\":\"has_rows\""), "{text}");
    assert!(text.contains("\"data_set_records\":\"empty\""), "{text}");
    assert!(
        text.contains(&format!("\"url\":\"http://{service}/health\"")),
        "{text}"
    );
    assert!(text.contains("\"status\":200"), "{text}");
    assert_eq!(leaks(&sent), Vec::<String>::new(), "sent: {text}");
    assert_eq!(leaks(&output.stdout), Vec::<String>::new());
    assert_eq!(leaks(&output.stderr), Vec::<String>::new());

    // What the server stores.
    let kept = everything_stored(&pool).await;
    assert!(kept.contains("has_rows"), "{kept}");
    assert_eq!(
        leaks(kept.as_bytes()),
        Vec::<String>::new(),
        "stored: {kept}"
    );

    // What it serves: the readiness document, the page, the event stream.
    let client = reqwest::Client::new();
    let document = client
        .get(format!("{server_url}/api/readiness"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        document.contains("\"RESEND_API_KEY\":\"configured\""),
        "{document}"
    );
    assert!(document.contains("\"kind\":\"reporter\""), "{document}");
    assert_eq!(
        leaks(document.as_bytes()),
        Vec::<String>::new(),
        "{document}"
    );
    let page = client
        .get(&server_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("RESEND_API_KEY"));
    assert_eq!(leaks(page.as_bytes()), Vec::<String>::new());
    let mut events = client
        .get(format!("{server_url}/api/events"))
        .send()
        .await
        .unwrap();
    let mut stream = Vec::new();
    while !String::from_utf8_lossy(&stream).contains("RESEND_API_KEY") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .expect("the event stream sends the live state at once")
            .unwrap()
            .expect("the stream goes on");
        stream.extend_from_slice(&chunk);
    }
    assert_eq!(leaks(&stream), Vec::<String>::new());
    served.shutdown.cancel();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_reporters_exit_codes_say_what_happened(pool: PgPool) {
    let served = serve(&pool, Duration::from_secs(60)).await;
    let token = store::create(&pool, "production").await.unwrap();
    let staging = store::create(&pool, "staging").await.unwrap();
    let server_url = format!("http://{}", served.addr);
    let args = [
        "--server",
        server_url.as_str(),
        "--deployment",
        "production",
    ];

    let accepted = run(reporter(&args, &[("CLEARANCE_REPORT_TOKEN", &token)])).await;
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    assert!(String::from_utf8_lossy(&accepted.stdout).contains("deployment production: reported"));

    let refused = run(reporter(&args, &[("CLEARANCE_REPORT_TOKEN", &staging)])).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("HTTP 403"));

    let no_token = run(reporter(&args, &[])).await;
    assert_eq!(no_token.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("CLEARANCE_REPORT_TOKEN"));

    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = run(reporter(
        &["--server", &nowhere, "--deployment", "production"],
        &[("CLEARANCE_REPORT_TOKEN", &token)],
    ))
    .await;
    assert_eq!(unreachable.status.code(), Some(3));

    // Without a database URL every table counts as unreachable: still a report.
    let kept = stored(&pool).await;
    assert!(
        kept.contains("\"data_sets\": \"unreachable\"")
            || kept.contains("\"data_sets\":\"unreachable\""),
        "{kept}"
    );
    served.shutdown.cancel();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_sidecar_keeps_reporting_through_refusals(pool: PgPool) {
    let served = serve(&pool, Duration::from_secs(60)).await;
    let server_url = format!("http://{}", served.addr);
    let mut sidecar = reporter(
        &[
            "--server",
            &server_url,
            "--deployment",
            "production",
            "--every",
            "1s",
        ],
        &[("CLEARANCE_REPORT_TOKEN", "clrdep_not-a-real-token")],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    let still_running = sidecar.try_wait().unwrap().is_none();
    sidecar.kill().unwrap();
    sidecar.wait().unwrap();
    assert!(still_running, "the sidecar stopped after a refused round");
    let asked = String::from_utf8_lossy(&served.recorded.lock().unwrap())
        .matches("GET /api/deployments/production/declared")
        .count();
    assert!(asked >= 2, "the sidecar asked {asked} times");
    served.shutdown.cancel();
}

#[sqlx::test(migrations = "../migrations")]
async fn operators_create_list_and_revoke_deployments_from_the_command_line(pool: PgPool) {
    let database = crate::common::database_url(&pool);
    let server = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .env_clear()
            .env("DATABASE_URL", &database)
            .args(args);
        command
    };
    let created = run(server(&["deployment", "create", "--name", "production"])).await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let printed = String::from_utf8_lossy(&created.stdout);
    let token = printed.lines().last().unwrap().to_owned();
    assert!(token.starts_with("clrdep_"), "{printed}");
    assert!(store::authenticate(&pool, &token).await.unwrap().is_some());

    let again = run(server(&["deployment", "create", "--name", "production"])).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let listed = run(server(&["deployment", "list"])).await;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("production") && listed.contains("never reported"),
        "{listed}"
    );
    assert!(!listed.contains(&token[7..]));

    let revoked = run(server(&["deployment", "revoke", "--name", "production"])).await;
    assert!(revoked.status.success());
    assert!(store::authenticate(&pool, &token).await.unwrap().is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reporter_token_opens_no_other_endpoint(pool: PgPool) {
    let app = deployment_app(&pool, "production", Duration::from_secs(60)).await;
    let token = store::create(&pool, "production").await.unwrap();
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM proof_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    let answer = send(
        &app.router,
        request(
            "POST",
            "/api/proofs/stripe-self-serve-billing/runs",
            Some(&token),
            r#"{"status": "passed", "actor": "reporter"}"#,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    for uri in [
        "/api/platform/launch-room",
        "/api/platform/launch-acceptance",
        "/api/platform/launch-dossier",
    ] {
        let answer = send(
            &app.router,
            request("GET", uri, Some(&token), Body::empty()),
        )
        .await;
        assert!(
            answer.status.is_client_error(),
            "{uri} answered {} to a reporter token",
            answer.status
        );
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM proof_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(runs, after);
}

#[sqlx::test(migrations = "../migrations")]
async fn deployment_names_and_tokens_follow_their_rules(pool: PgPool) {
    assert!(store::create(&pool, "Bad Name").await.is_err());
    let first = store::create(&pool, "production").await.unwrap();
    assert!(first.starts_with("clrdep_"));
    // One active token per deployment; a revoked one can be given a new token.
    assert!(store::create(&pool, "production").await.is_err());
    store::revoke(&pool, "production").await.unwrap();
    assert!(store::authenticate(&pool, &first).await.unwrap().is_none());
    let second = store::create(&pool, "production").await.unwrap();
    assert_ne!(first, second);
    assert!(store::authenticate(&pool, &second).await.unwrap().is_some());
    // Only the hash is stored.
    assert!(!stored(&pool).await.contains(&second[7..]));
}
