//! Least privilege: the server serves as `clearance_app` (a member of
//! `clearance_server`), which PostgreSQL itself refuses every change to the
//! ledgers but reading and appending; and the real binary refuses to serve as
//! a role that could rewrite them unless told it is development.

use std::process::Command;

use sqlx::{Connection, PgConnection, PgPool};

use crate::common::served::Served;
use crate::common::{
    attach_everything, database_url, register, serving_database_url, serving_pool, world,
};
use crate::rooms::{acceptance, inputs};
use server::auth::audit::{self, Action, Event};
use server::rooms::{self, verify, Submission};
use server::tenancy::{self, Acting};

/// SQLSTATE 42501: insufficient_privilege.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

async fn sqlstate(connection: &mut PgConnection, statement: &str) -> String {
    match sqlx::raw_sql(statement).execute(&mut *connection).await {
        Ok(_) => format!("no error: {statement} was allowed"),
        Err(sqlx::Error::Database(error)) => error.code().unwrap_or_default().into_owned(),
        Err(error) => format!("{error}"),
    }
}

/// Rows in `table`, every tenant's (row-level security applies to the owner too).
async fn rows(pool: &PgPool, table: &str) -> i64 {
    let mut tx = tenancy::begin(pool, Acting::System).await.unwrap();
    let rows = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows
}

#[sqlx::test(migrations = "../migrations")]
async fn the_serving_role_signs_attaches_and_counts_refusals_through_the_real_code(pool: PgPool) {
    let serving = serving_pool(&pool);
    let register = register();
    let w = world(&serving).await;
    attach_everything(
        &serving,
        &w.operator,
        "acme",
        "https://evidence.example/gate",
    )
    .await;
    let now = inputs(&register, &[]);
    rooms::submit(
        &serving,
        &register,
        &now,
        &w.sponsor_a,
        None,
        Submission::Accept(&acceptance(&now, &[])),
    )
    .await
    .unwrap();
    for address in ["203.0.113.5", "203.0.113.6", "203.0.113.5"] {
        audit::record(
            &serving,
            &Event {
                account_id: None,
                actor: "anonymous",
                action: Action::SignInRefused,
                subject: Some("olive@example.com"),
                remote_addr: Some(address),
            },
        )
        .await;
    }
    let recent = audit::recent(&serving, 50).await.unwrap();
    let burst = recent
        .iter()
        .find(|event| event.action == "sign_in_refused")
        .unwrap();
    assert_eq!(burst.count, 3, "{recent:?}");
    assert!(burst.several_addresses);
    assert!(burst.last_at.is_some());
    let reports = verify::verify_all(&serving).await.unwrap();
    assert!(!reports.is_empty());
    assert!(reports.iter().all(|report| report.result.is_ok()));
    assert_eq!(rows(&pool, "acceptance_records").await, 1);
    assert!(rows(&pool, "evidence_changes").await > 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn postgres_refuses_the_serving_role_every_change_to_the_ledgers(pool: PgPool) {
    let serving = serving_pool(&pool);
    let register = register();
    let w = world(&serving).await;
    attach_everything(
        &serving,
        &w.operator,
        "acme",
        "https://evidence.example/gate",
    )
    .await;
    let now = inputs(&register, &[]);
    rooms::submit(
        &serving,
        &register,
        &now,
        &w.sponsor_a,
        None,
        Submission::Accept(&acceptance(&now, &[])),
    )
    .await
    .unwrap();
    audit::record(
        &serving,
        &Event {
            account_id: None,
            actor: "anonymous",
            action: Action::SignInFailed,
            subject: Some("olive@example.com"),
            remote_addr: Some("203.0.113.5"),
        },
    )
    .await;
    let before: Vec<i64> = {
        let mut counts = Vec::new();
        for table in server::db::privilege::LEDGERS {
            counts.push(rows(&pool, table).await);
        }
        counts
    };

    let mut connection = PgConnection::connect(&serving_database_url(&pool))
        .await
        .unwrap();
    // As the system acting for every tenant, so row-level security hides nothing.
    sqlx::raw_sql("SET clearance.role = 'system'")
        .execute(&mut connection)
        .await
        .unwrap();
    let mut statements = Vec::new();
    for table in server::db::privilege::LEDGERS {
        statements.extend([
            format!("UPDATE {table} SET actor = 'eve'"),
            format!("DELETE FROM {table}"),
            format!("TRUNCATE {table}"),
            format!("ALTER TABLE {table} DISABLE TRIGGER ALL"),
            format!("ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"),
            format!("DROP TRIGGER {table}_append_only ON {table}"),
            format!(
                "CREATE TRIGGER {table}_forged BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION refuse_change()"
            ),
            format!("ALTER TABLE {table} ADD COLUMN forged text"),
            format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"),
            format!("ALTER TABLE {table} OWNER TO clearance_app"),
            format!("DROP TABLE {table}"),
        ]);
    }
    statements.extend(
        [
            // The heads advance; they are never moved to another tenant or removed.
            "UPDATE ledger_heads SET tenant_id = tenant_id",
            "DELETE FROM ledger_heads",
            "TRUNCATE ledger_heads",
            // A burst's count goes up; the event it counts stays.
            "UPDATE access_event_repeats SET event_id = event_id",
            "UPDATE events SET data = '{}'",
            "ALTER TABLE access_event_repeats DISABLE TRIGGER ALL",
            // No becoming the owner, no code of one's own in the schema.
            "SET ROLE clearance",
            "SET SESSION AUTHORIZATION clearance",
            "CREATE FUNCTION forged() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
            "CREATE TABLE forged (id int)",
            "GRANT clearance TO clearance_app",
        ]
        .map(str::to_owned),
    );
    for statement in &statements {
        assert_eq!(
            sqlstate(&mut connection, statement).await,
            INSUFFICIENT_PRIVILEGE,
            "{statement}"
        );
    }
    let after: Vec<i64> = {
        let mut counts = Vec::new();
        for table in server::db::privilege::LEDGERS {
            counts.push(rows(&pool, table).await);
        }
        counts
    };
    assert_eq!(before, after);
    assert!(before.iter().all(|rows| *rows > 0), "{before:?}");
    let reports = verify::verify_all(&pool).await.unwrap();
    assert!(reports.iter().all(|report| report.result.is_ok()));
}

#[sqlx::test(migrations = "../migrations")]
async fn every_table_is_granted_to_the_serving_group_and_none_may_be_truncated(pool: PgPool) {
    // A table added without grants would fail the server only when it is used:
    // caught here instead, whichever table it is.
    let ungranted: Vec<String> = sqlx::query_scalar(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname IN ('public', 'tower_sessions') AND c.relkind IN ('r', 'v', 'p')
            AND NOT has_table_privilege('clearance_server', c.oid, 'SELECT')
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        ungranted.is_empty(),
        "not granted to clearance_server: {ungranted:?}"
    );
    let too_much: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname || ' ' || p.privilege FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          CROSS JOIN unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(privilege)
          WHERE n.nspname IN ('public', 'tower_sessions') AND c.relkind IN ('r', 'v', 'p')
            AND has_table_privilege('clearance_server', c.oid, p.privilege)
          UNION ALL
         SELECT c.relname || ' ' || p.privilege FROM pg_class c
          CROSS JOIN unnest(ARRAY['UPDATE', 'DELETE']) AS p(privilege)
          WHERE c.relnamespace = 'public'::regnamespace
            AND c.relname IN ('acceptance_records', 'evidence_changes', 'access_events')
            AND (has_table_privilege('clearance_server', c.oid, p.privilege)
                 OR has_any_column_privilege('clearance_server', c.oid, 'UPDATE'))
          UNION ALL
         SELECT c.relname || ' owned' FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace
            AND pg_has_role('clearance_server', c.relowner, 'MEMBER')
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(too_much.is_empty(), "{too_much:?}");
    let group: (bool, bool, bool, bool) = sqlx::query_as(
        "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles
          WHERE rolname = 'clearance_server'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(group, (false, false, false, false));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_server_refuses_to_serve_as_the_tables_owner_and_says_why(pool: PgPool) {
    let output = Served::start(&database_url(&pool), &[]).exited();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    for words in [
        "refusing to serve",
        r#"the database role "clearance""#,
        "owns (or is a member of the owner of) acceptance_records, access_events, evidence_changes",
        "disable their append-only triggers and rewrite or delete their rows",
        "clearance_server",
        "server migrate",
        "docs/security.md",
        "--dev-allow-owner-role",
    ] {
        assert!(stderr.contains(words), "{words:?} not in: {stderr}");
    }
    assert!(
        !stderr.contains("clearance:clearance"),
        "no password in: {stderr}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_log_another_key_signed_stops_the_server_and_it_says_why(pool: PgPool) {
    // Another key (another checkout's, say) signed the log's first checkpoint.
    let stop = tokio_util::sync::CancellationToken::new();
    let other =
        server::log::Sequencer::spawn(pool.clone(), crate::common::test_log_key(), stop.clone());
    other.flush().await.expect("a checkpoint");
    stop.cancel();

    let output = Served::start(&serving_database_url(&pool), &[]).exited();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    for words in [
        "the log's newest checkpoint (tree size 0) is not signed by this server's key",
        "every server of a deployment signs with the same key file",
        "docs/operations.md",
    ] {
        assert!(stderr.contains(words), "{words:?} not in: {stderr}");
    }
    assert!(!stderr.contains("PRIVATE+KEY"), "no key in: {stderr}");
}

#[sqlx::test(migrations = "../migrations")]
async fn with_the_development_flag_the_owner_serves_with_a_loud_warning(pool: PgPool) {
    let output = Served::start(
        &database_url(&pool),
        &[("CLEARANCE_DEV_ALLOW_OWNER_ROLE", "1")],
    )
    .serves()
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DEVELOPMENT ONLY"), "{stderr}");
    assert!(stderr.contains("acceptance_records"), "{stderr}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_serving_role_serves_without_a_flag(pool: PgPool) {
    let output = Served::start(&serving_database_url(&pool), &[])
        .serves()
        .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("DEVELOPMENT ONLY"), "{stderr}");
}

#[sqlx::test(migrations = false)]
async fn an_unmigrated_database_is_migrated_by_the_owner_then_served_by_the_serving_role(
    pool: PgPool,
) {
    let output = Served::start(&serving_database_url(&pool), &[]).exited();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("schema is not up to date"), "{stderr}");
    assert!(stderr.contains("run `server migrate`"), "{stderr}");

    let migrated = Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("DATABASE_URL", serving_database_url(&pool))
        .env("CLEARANCE_OWNER_DATABASE_URL", database_url(&pool))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("schema up to date"));

    Served::start(&serving_database_url(&pool), &[])
        .serves()
        .await;
}
