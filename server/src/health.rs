//! Liveness and readiness for load balancers and orchestrators, in the
//! Kubernetes convention: `GET /livez` answers while the process runs;
//! `GET /readyz` answers 200 only while this server can serve (the database
//! answers, its schema is this build's, the register is loaded, and it is not
//! shutting down), 503 otherwise. `?verbose` lists each check as `[+]name ok`
//! or `[-]name failed: reason`; a failing readiness lists them always.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::state::AppState;

/// How long the database may take to answer the readiness check.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
}

/// `?verbose` (any value, or none).
#[derive(Debug, Deserialize)]
struct Verbosity {
    verbose: Option<String>,
}

/// One check and why it failed.
struct Check {
    name: &'static str,
    failed: Option<String>,
}

impl Check {
    fn passed(name: &'static str) -> Self {
        Self { name, failed: None }
    }

    fn result(name: &'static str, failed: Option<String>) -> Self {
        Self { name, failed }
    }
}

/// The Kubernetes-style answer: `ok`, or the checks when asked or failing.
fn answer(endpoint: &str, checks: &[Check], verbose: bool) -> Response {
    let failing = checks.iter().any(|check| check.failed.is_some());
    let body = if verbose || failing {
        let mut lines: Vec<String> = checks
            .iter()
            .map(|check| match &check.failed {
                None => format!("[+]{} ok", check.name),
                Some(reason) => format!("[-]{} failed: {reason}", check.name),
            })
            .collect();
        lines.push(if failing {
            format!("{endpoint} check failed")
        } else {
            format!("{endpoint} check passed")
        });
        lines.join("\n") + "\n"
    } else {
        "ok\n".to_owned()
    };
    let status = if failing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn livez(Query(asked): Query<Verbosity>) -> Response {
    answer("livez", &[Check::passed("ping")], asked.verbose.is_some())
}

async fn readyz(State(state): State<AppState>, Query(asked): Query<Verbosity>) -> Response {
    let shutdown = Check::result(
        "shutdown",
        state
            .draining
            .is_cancelled()
            .then(|| "the server is shutting down".to_owned()),
    );
    let schema = tokio::time::timeout(DATABASE_TIMEOUT, crate::db::schema::state(&state.pool));
    let database = match schema.await {
        Ok(Ok(schema)) => [
            Check::passed("database"),
            Check::result("migrations", schema.missing()),
        ],
        Ok(Err(_)) => [
            Check::result("database", Some("PostgreSQL does not answer".to_owned())),
            Check::result("migrations", Some("not checked".to_owned())),
        ],
        Err(_) => [
            Check::result(
                "database",
                Some(format!(
                    "PostgreSQL did not answer within {} s",
                    DATABASE_TIMEOUT.as_secs()
                )),
            ),
            Check::result("migrations", Some("not checked".to_owned())),
        ],
    };
    let register = Check::result(
        "register",
        state
            .clearance
            .register
            .motions
            .is_empty()
            .then(|| "the register has no launch motions".to_owned()),
    );
    let [database, migrations] = database;
    answer(
        "readyz",
        &[shutdown, database, migrations, register],
        asked.verbose.is_some(),
    )
}
