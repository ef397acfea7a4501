//! Entry point: parses the command line, then serves or runs a command.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use leptos::config::get_configuration;
use tracing_subscriber::EnvFilter;

use app::domain::Register;
use server::api::ApiToken;
use server::auth::store::PgSessionStore;
use server::config::{
    seconds, AuditCommand, Cli, Command, DossierCommand, ProofCommand, SourceChoice,
};
use server::readiness::remote::RemoteSource;
use server::readiness::Source;
use server::startup::{self, Settings};
use server::webhooks::WebhookSettings;
use server::{commands, db, deployments, listener, metrics, register_source};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let register = || register_source::load(cli.register.as_deref()).map(Arc::new);
    // Commands check the schema is current; in development they migrate it.
    let migrate = cli.dev_allow_owner_role;
    let pool = || async { db::connect_for_command(&database_url(&cli)?, 2, migrate).await };
    match &cli.command {
        // Checking a downloaded dossier needs no register file or database.
        Some(Command::Dossier(DossierCommand::Verify { file, key })) => {
            let (report, intact) = commands::dossier_verify(file, key.as_deref())?;
            print!("{report}");
            Ok(exit_code(intact))
        }
        Some(Command::Log(server::log::cli::LogCommand::Keygen { name, out })) => {
            let public = server::log::cli::keygen(name, out)?;
            println!(
                "wrote the private key to {}\npublic verifier key (publish it):\n{public}",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Receipt(server::log::cli::ReceiptCommand::Verify { file, key })) => {
            let (report, intact) = server::log::cli::verify_receipt(file, key)?;
            print!("{report}");
            Ok(exit_code(intact))
        }
        Some(Command::Migrate(args)) => {
            let url = args
                .owner_database_url()
                .or_else(|| cli.database_url())
                .context(
                    "no database to migrate: give the owner's URL in CLEARANCE_OWNER_DATABASE_URL \
                 or --owner-database-url",
                )?;
            db::connect_and_migrate(&url, 1).await?;
            let newest = db::schema::MIGRATOR
                .iter()
                .next_back()
                .map(|migration| format!("{} ({})", migration.version, migration.description))
                .unwrap_or_default();
            println!("schema up to date: newest migration {newest}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::CheckRegister) => {
            println!("{}", describe(&*register()?));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check(args)) => {
            let register = register()?;
            let pool = match (&args.url, cli.database_url()) {
                (None, Some(url)) => Some(db::connect_for_command(&url, 2, migrate).await?),
                _ => None,
            };
            let outcome = commands::check(&register, pool.as_ref(), args).await?;
            print!("{}", outcome.report);
            Ok(exit_code(outcome.ready))
        }
        Some(Command::Proof(ProofCommand::Record(args))) => {
            let register = register()?;
            println!(
                "{}",
                commands::record_proof(&register, &pool().await?, args).await?
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Proof(ProofCommand::Run(args))) => {
            use server::proof_runner::{self, Recorder};
            let register = register()?;
            let recorder = match &args.server {
                Some(url) => Recorder::Server {
                    url: url.clone(),
                    token: std::env::var("CLEARANCE_API_TOKEN")
                        .ok()
                        .filter(|token| !token.is_empty())
                        .context("--server needs the bearer token in CLEARANCE_API_TOKEN")?
                        .into(),
                },
                None => Recorder::Database(pool().await?),
            };
            Ok(ExitCode::from(
                proof_runner::run(&register, args, &recorder).await?,
            ))
        }
        Some(Command::Account(command)) => {
            println!("{}", commands::account(&pool().await?, command).await?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Audit(AuditCommand::Verify { checkpoints, key })) => {
            let pool = pool().await?;
            let (report, mut intact) = commands::audit_verify(&pool).await?;
            print!("{report}");
            if let (Some(file), Some(key)) = (checkpoints, key) {
                let kept = std::fs::read_to_string(file)
                    .with_context(|| format!("could not read {}", file.display()))?;
                let key = server::log::cli::verifier_key(key)?;
                let kept = server::log::audit::split_checkpoints(&kept);
                let (log_report, log_intact) =
                    server::log::audit::verify(&pool, &key, &kept).await?;
                print!("{log_report}");
                intact &= log_intact;
            }
            Ok(exit_code(intact))
        }
        Some(Command::Token(command)) => {
            println!("{}", commands::token(&pool().await?, command).await?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Deployment(command)) => {
            println!(
                "{}",
                deployments::commands::deployment(&pool().await?, command).await?
            );
            Ok(ExitCode::SUCCESS)
        }
        // The reporter needs no register (the server says what to check) and
        // reads the deployment's own database, never migrating it.
        Some(Command::Report(args)) => deployments::reporter::run(args, cli.database_url()).await,
        Some(Command::Serve) | None => {
            serve(&cli, register()?).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn exit_code(success: bool) -> ExitCode {
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn database_url(cli: &Cli) -> anyhow::Result<secrecy::SecretString> {
    cli.database_url().context(
        "DATABASE_URL is not set: give the PostgreSQL URL in DATABASE_URL or --database-url",
    )
}

fn describe(register: &Register) -> String {
    format!(
        "{}: schema {}, {} motions, {} blockers, {} dependencies, {} proofs, {} evidence gates, {} evidence packs",
        register.organisation,
        register.schema_version,
        register.motions.len(),
        register.blockers.len(),
        register.dependency_names().len(),
        register.proofs.len(),
        register.customer_evidence.gates.len(),
        register.evidence_packs.packs.len(),
    )
}

async fn serve(cli: &Cli, register: Arc<Register>) -> anyhow::Result<()> {
    // Refused before anything starts: an https site with cookies not secure.
    let sessions = cli.serve.session_settings()?;
    let pool = db::lazy_pool(&database_url(cli)?, cli.max_connections)?;
    // The server starts whether or not PostgreSQL is up: until it answers, the
    // register is served from the readiness source, marked degraded. Once it
    // answers, a role too powerful to serve as, a schema that is not current or
    // a log signed by another key stops the server (see `db::check_when_reachable`
    // and `log::leader::check_key`).
    let log_key = Arc::new(cli.serve.log.load()?);
    tracing::info!(log = %log_key.origin(), key = %log_key.verifier_key(), "signing the transparency log's checkpoints");
    let mut start_check = tokio::spawn({
        let pool = pool.clone();
        let allow_owner = cli.dev_allow_owner_role;
        let log_key = Arc::clone(&log_key);
        async move {
            db::check_when_reachable(&pool, allow_owner).await?;
            server::log::leader::check_key(&pool, &log_key).await?;
            anyhow::Ok(())
        }
    });
    let pending_check = match tokio::time::timeout(Duration::from_secs(5), &mut start_check).await {
        Ok(outcome) => {
            outcome.context("the start-up check failed")??;
            None
        }
        Err(_) => Some(start_check),
    };
    let settings = cli.serve.readiness_settings(&register.readiness);
    let source = match cli.serve.source_choice(&register.readiness)? {
        SourceChoice::Deployment(name) => Source::Deployment {
            name,
            stale_after: seconds(settings.stale_after_secs),
        },
        SourceChoice::Remote(url) => Source::Remote {
            source: RemoteSource::new(url, Duration::from_millis(settings.timeout_ms)),
            stale_after: seconds(settings.stale_after_secs),
        },
        SourceChoice::Environment => Source::Environment {
            name: cli.serve.source_name.clone(),
        },
    };
    tracing::info!(source = %source.label(), "reading readiness");

    let mail_settings = cli.serve.mail.settings()?;
    match &mail_settings {
        Some(mail) => {
            tracing::info!(relay = %mail.relay_host(), from = %mail.from, "mailing through the SMTP relay")
        }
        None => tracing::info!("e-mail is off: CLEARANCE_SMTP_URL is not set"),
    }
    let leptos_options = get_configuration(None)
        .context("invalid Leptos configuration")?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let server = startup::build(
        pool.clone(),
        Settings {
            register: Arc::clone(&register),
            source,
            leptos_options,
            api_token: cli.serve.api_token().map(ApiToken::new),
            sessions,
            page_cache_entries: usize::try_from(cli.serve.page_cache_entries)?,
            public_url: cli.serve.public.resolve(addr),
            edge: cli.serve.edge.edge_settings(),
            webhooks: WebhookSettings::from(&cli.serve.webhooks),
            metrics_token: cli.serve.metrics.token(),
            mail: mail_settings.clone(),
            log_key,
        },
    )
    .await;
    server.monitor.spawn(seconds(settings.poll_interval_secs));
    server.monitor.spawn_listener();
    server::events::worker::spawn(
        pool.clone(),
        server.state.webhooks,
        server.state.public_url.to_string(),
        mail_settings,
        server.state.shutdown.clone(),
    )?;
    let shutdown = server.state.shutdown.clone();
    // Expired sessions are never loaded; this only keeps the table small.
    tokio::spawn({
        let store = PgSessionStore::new(pool.clone());
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(600));
            loop {
                every.tick().await;
                if let Err(error) = store.delete_expired().await {
                    tracing::warn!(%error, "could not delete expired sessions");
                }
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    tracing::info!(
        register = %register.organisation,
        address = %listener.local_addr().unwrap_or(addr),
        "serving the launch clearance register"
    );
    if let Some(metrics_addr) = cli.serve.metrics.metrics_addr {
        let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .with_context(|| format!("could not listen on {metrics_addr} for /metrics"))?;
        tracing::info!(
            address = %metrics_listener.local_addr().unwrap_or(metrics_addr),
            "serving /metrics without a token"
        );
        let router = metrics::exporter_router(server.state.clone());
        let edge = server.state.edge.clone();
        let shutdown = server.state.shutdown.clone();
        tokio::spawn(
            async move { listener::serve(metrics_listener, router, &edge, shutdown).await },
        );
    }
    // SIGTERM: not ready at once, still serving for the drain; then stop
    // accepting, close event streams (they carry a retry hint) and give requests
    // in flight the grace period. The process ends within drain + grace.
    let drain = Duration::from_secs(cli.serve.shutdown_drain_secs);
    let grace = Duration::from_secs(cli.serve.shutdown_grace_secs);
    let draining = server.state.draining.clone();
    let monitor = Arc::clone(&server.monitor);
    let (ended_tx, ended) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        shutdown_signal().await;
        draining.cancel();
        // Another server of the set reads readiness from its next reading on.
        monitor.resign().await;
        tracing::info!(
            drain_secs = drain.as_secs(),
            grace_secs = grace.as_secs(),
            "shutting down: /readyz answers 503; still serving during the drain"
        );
        tokio::time::sleep(drain).await;
        tracing::info!("no longer accepting connections; finishing requests in flight");
        shutdown.cancel();
        tokio::time::sleep(grace).await;
        let _ = ended_tx.send(());
    });
    // Timeouts, the connection cap, TCP_NODELAY and the graceful shutdown: see
    // `server::listener`.
    let serving = listener::serve(
        listener,
        server.router,
        &server.state.edge,
        server.state.shutdown.clone(),
    );
    let mut serving = std::pin::pin!(serving);
    if let Some(check) = pending_check {
        tokio::select! {
            () = &mut serving => return Ok(()),
            // Serving goes on once the role and the schema pass; a failure stops it.
            outcome = check => outcome.context("the start-up check failed")??,
        }
    }
    tokio::select! {
        () = serving => tracing::info!("every connection closed; stopped"),
        _ = ended => tracing::warn!(
            grace_secs = grace.as_secs(),
            "requests still in flight after the grace period; stopping anyway"
        ),
    }
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
