//! A watched deployment that is down, slow, or answers garbage: every reading
//! fails with its own public-safe reason, and the monitor keeps the last known
//! state marked stale instead of crashing or forgetting it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::StreamExt;
use http::StatusCode;
use sqlx::PgPool;
use tokio::net::TcpListener;

use app::domain::document::{ObservedReadiness, READINESS_FORMAT};
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::domain::{DependencyState, PublicCheck};
use server::readiness::remote::{RemoteSource, MAX_DOCUMENT_BYTES};
use server::readiness::{ReadinessMonitor, Source};

/// How the fake deployment answers its next requests.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Good,
    Garbage,
    Html,
    WrongFormat,
    ServerError,
    /// Answers after twice the client's timeout.
    Slow,
    /// Sends the headers at once, then the body one byte every 100 ms.
    Trickle,
    /// A valid start, then far more than the size limit.
    Huge,
    /// Declares a huge body in Content-Length.
    HugeDeclared,
}

const TIMEOUT: Duration = Duration::from_millis(300);

fn document() -> ObservedReadiness {
    ObservedReadiness {
        format: READINESS_FORMAT.to_owned(),
        version: Some("v42".to_owned()),
        dependencies: BTreeMap::from([("RESEND_API_KEY".to_owned(), DependencyState::Configured)]),
        public_checks: vec![PublicCheck {
            name: "health".to_owned(),
            passed: true,
            detail: None,
        }],
    }
}

async fn answer(State(mode): State<Arc<Mutex<Mode>>>) -> Response {
    let mode = *mode.lock().unwrap();
    match mode {
        Mode::Good => axum::Json(document()).into_response(),
        Mode::Garbage => (StatusCode::OK, "\u{0}\u{1}{{{not json").into_response(),
        Mode::Html => (StatusCode::OK, "<html><body>Bad gateway</body></html>").into_response(),
        Mode::WrongFormat => {
            let mut document = document();
            document.format = "somebody-else/9".to_owned();
            axum::Json(document).into_response()
        }
        Mode::ServerError => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Mode::Slow => {
            tokio::time::sleep(TIMEOUT * 2).await;
            axum::Json(document()).into_response()
        }
        Mode::Trickle => {
            let bytes = serde_json::to_vec(&document()).unwrap();
            let stream = futures::stream::iter(bytes).then(|byte| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, std::io::Error>(vec![byte])
            });
            Response::new(Body::from_stream(stream))
        }
        Mode::Huge => {
            let mut bytes = br#"{"format":"clearance.readiness/1","padding":""#.to_vec();
            bytes.resize(MAX_DOCUMENT_BYTES * 2, b'x');
            let chunks = bytes
                .chunks(16 * 1024)
                .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
                .collect::<Vec<_>>();
            Response::new(Body::from_stream(futures::stream::iter(chunks)))
        }
        Mode::HugeDeclared => {
            let bytes = vec![b' '; MAX_DOCUMENT_BYTES + 1];
            bytes.into_response()
        }
    }
}

/// A fake deployment on a free loopback port; `stop` makes it refuse connections.
struct FakeDeployment {
    url: String,
    mode: Arc<Mutex<Mode>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeDeployment {
    async fn start() -> Self {
        Self::start_at("127.0.0.1:0").await
    }

    /// Starts again on the address a stopped deployment had.
    async fn restart(&self) -> Self {
        let address = self.url.trim_start_matches("http://");
        Self::start_at(address.trim_end_matches("/api/readiness")).await
    }

    async fn start_at(address: &str) -> Self {
        let mode = Arc::new(Mutex::new(Mode::Good));
        let listener = TcpListener::bind(address).await.unwrap();
        let url = format!("http://{}/api/readiness", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/api/readiness", get(answer))
            .with_state(Arc::clone(&mode));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, mode, server }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn stop(&self) {
        self.server.abort();
    }

    fn source(&self) -> RemoteSource {
        RemoteSource::new(self.url.clone(), TIMEOUT)
    }
}

#[tokio::test]
async fn each_bad_answer_fails_the_reading_with_its_own_reason() {
    let deployment = FakeDeployment::start().await;
    let source = deployment.source();
    assert_eq!(source.read().await.unwrap(), document());

    // Each failure, and the start of the public-safe reason the page shows.
    let cases = [
        (
            Mode::Garbage,
            "answered something that is not a readiness document",
        ),
        (
            Mode::Html,
            "answered something that is not a readiness document",
        ),
        (
            Mode::WrongFormat,
            "answered readiness format \"somebody-else/9\"",
        ),
        (Mode::ServerError, "answered HTTP 500"),
        (Mode::Slow, "no answer within 300 ms"),
        (Mode::Trickle, "no answer within 300 ms"),
        (Mode::Huge, "answered more than 1024 KiB"),
        (Mode::HugeDeclared, "answered more than 1024 KiB"),
    ];
    for (mode, expected) in cases {
        deployment.set(mode);
        let started = std::time::Instant::now();
        let error = source.read().await.unwrap_err().to_string();
        assert!(
            error.starts_with(expected),
            "{mode:?}: unexpected {error:?}"
        );
        // Never a response body in the message, and never a wait past the timeout.
        assert!(!error.to_string().contains("Bad gateway"), "{error}");
        assert!(
            started.elapsed() < TIMEOUT * 3,
            "{mode:?} took {:?}",
            started.elapsed()
        );
    }

    deployment.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let error = source.read().await.unwrap_err();
    assert_eq!(error.to_string(), "could not connect");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_monitor_keeps_the_last_state_marked_stale_then_counts_the_deployment_unreachable(
    pool: PgPool,
) {
    let register = Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap());
    let deployment = FakeDeployment::start().await;
    let (monitor, live) = ReadinessMonitor::start(
        register,
        pool,
        Source::Remote {
            source: deployment.source(),
            stale_after: Duration::from_millis(600),
        },
    )
    .await;
    let first = live.borrow().clone();
    assert!(first.readiness.stale.is_none());
    assert_eq!(first.readiness.version.as_deref(), Some("v42"));
    let reachable = |state: &app::live_state::LiveState| {
        state
            .readiness
            .inputs
            .public_checks
            .iter()
            .find(|check| check.name == "deployment reachable")
            .map(|check| check.passed)
    };
    assert_eq!(reachable(&first), Some(true));

    for mode in [Mode::Garbage, Mode::Slow, Mode::ServerError] {
        deployment.set(mode);
        monitor.refresh().await;
        let state = live.borrow().clone();
        let stale = state.readiness.stale.clone().expect("marked stale");
        assert_eq!(stale.since, first.readiness.observed_at, "{mode:?}");
        // The last known answer stands within the window.
        assert_eq!(
            state.readiness.inputs.dependencies, first.readiness.inputs.dependencies,
            "{mode:?}"
        );
        assert_eq!(state.readiness.version.as_deref(), Some("v42"));
    }

    // Past the window the deployment counts as unreachable: a failed public check.
    tokio::time::sleep(Duration::from_millis(700)).await;
    deployment.stop();
    monitor.refresh().await;
    let state = live.borrow().clone();
    assert!(state.readiness.stale.is_some());
    assert_eq!(reachable(&state), Some(false));

    // Back on the same address: fresh and reachable again.
    let deployment = deployment.restart().await;
    monitor.refresh().await;
    let state = live.borrow().clone();
    assert!(state.readiness.stale.is_none());
    assert_eq!(reachable(&state), Some(true));
    drop(deployment);
}
