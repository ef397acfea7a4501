//! Entry point: parses the command line, then serves or runs a command.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use leptos::config::get_configuration;
use tracing_subscriber::EnvFilter;

use app::live::LiveClearance;
use server::config::{Cli, Command};
use server::readiness::ReadinessMonitor;
use server::routes::{router, AppState};
use server::{db, register_source};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::CheckRegister) => check_register(&cli),
        Some(Command::Serve) | None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("could not start the async runtime")
            .and_then(|runtime| runtime.block_on(serve(cli))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn check_register(cli: &Cli) -> anyhow::Result<()> {
    let register = register_source::load(cli.register.as_deref())?;
    println!(
        "{}: schema {}, {} motions, {} blockers, {} dependencies, {} proofs, {} evidence gates, {} evidence packs",
        register.organisation,
        register.schema_version,
        register.motions.len(),
        register.blockers.len(),
        register.dependency_names().len(),
        register.proofs.len(),
        register.customer_evidence.gates.len(),
        register.evidence_packs.packs.len(),
    );
    Ok(())
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let register = Arc::new(register_source::load(cli.register.as_deref())?);
    let database_url = cli.serve.database_url().context(
        "DATABASE_URL is not set: give the PostgreSQL URL in DATABASE_URL or --database-url",
    )?;
    let pool = db::connect_and_migrate(&database_url, cli.serve.max_connections).await?;

    let (monitor, readiness) = ReadinessMonitor::start(Arc::clone(&register), pool.clone()).await;
    monitor.spawn(cli.serve.refresh_interval());

    let leptos_options = get_configuration(None)
        .context("invalid Leptos configuration")?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let state = AppState {
        leptos_options,
        pool,
        clearance: LiveClearance {
            register: Arc::clone(&register),
            readiness,
        },
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    tracing::info!(
        register = %register.organisation,
        address = %listener.local_addr().unwrap_or(addr),
        "serving the launch clearance register"
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server stopped")?;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
}
