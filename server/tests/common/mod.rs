//! The real router over a test database, as every HTTP test builds it.

#![allow(dead_code, reason = "each test binary uses part of this module")]

use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use sqlx::PgPool;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::live::LiveClearance;
use server::api::ApiToken;
use server::auth::session::SessionSettings;
use server::readiness::history::PgHistory;
use server::readiness::{ReadinessMonitor, Source};
use server::routes::{router, AppState};

pub struct TestApp {
    pub router: axum::Router,
    pub monitor: Arc<ReadinessMonitor>,
    pub clearance: LiveClearance,
}

/// The default register, read from this process's environment, with `api_token`
/// and `sessions` as given.
pub async fn test_app(
    pool: &PgPool,
    api_token: Option<&str>,
    sessions: SessionSettings,
) -> TestApp {
    let register =
        Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register"));
    let (monitor, state) =
        ReadinessMonitor::start(Arc::clone(&register), pool.clone(), Source::environment()).await;
    let clearance = LiveClearance::new(register, state, PgHistory::shared(pool.clone()));
    let router = router(AppState {
        leptos_options: LeptosOptions::builder().output_name("clearance").build(),
        pool: pool.clone(),
        clearance: clearance.clone(),
        monitor_wake: monitor.waker(),
        api_token: api_token.map(|token| ApiToken::new(SecretString::from(token.to_owned()))),
        throttle: Default::default(),
        sessions,
        shutdown: tokio_util::sync::CancellationToken::new(),
    });
    TestApp {
        router,
        monitor,
        clearance,
    }
}
