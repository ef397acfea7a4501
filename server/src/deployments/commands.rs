//! `server deployment …`: deployments that report, and their reporter tokens.

use sqlx::PgPool;

use crate::auth::audit::{self, Action, Event};
use crate::config::DeploymentCommand;

use super::store;

const COMMAND_LINE: &str = "command line";

/// Runs the command; answers what to print.
pub async fn deployment(pool: &PgPool, command: &DeploymentCommand) -> anyhow::Result<String> {
    match command {
        DeploymentCommand::Create { name } => {
            let token = store::create(pool, name)
                .await
                .map_err(|error| anyhow::anyhow!("deployment not created: {error}"))?;
            record(
                pool,
                Action::TokenCreated,
                &format!("reporter token of deployment {name}"),
            )
            .await;
            Ok(format!(
                "deployment {name}: reporter token (can only report for {name}); shown once, \
                 only its hash is kept. Give it to the reporter as CLEARANCE_REPORT_TOKEN:\n{token}"
            ))
        }
        DeploymentCommand::Revoke { name } => {
            store::revoke(pool, name)
                .await
                .map_err(|error| anyhow::anyhow!("not revoked: {error}"))?;
            record(
                pool,
                Action::TokenRevoked,
                &format!("reporter token of deployment {name}"),
            )
            .await;
            Ok(format!("revoked the reporter token of deployment {name}"))
        }
        DeploymentCommand::List => {
            let rows = store::list(pool).await?;
            if rows.is_empty() {
                return Ok("no deployments".to_owned());
            }
            Ok(rows
                .iter()
                .map(|row| {
                    format!(
                        "{}\tcreated {}\t{}{}",
                        row.name,
                        row.created_at.format("%Y-%m-%d %H:%M UTC"),
                        row.last_report_at.map_or_else(
                            || "never reported".to_owned(),
                            |at| format!("last report {}", at.format("%Y-%m-%d %H:%M:%S UTC"))
                        ),
                        if row.revoked_at.is_some() {
                            "\trevoked"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

async fn record(pool: &PgPool, action: Action, subject: &str) {
    audit::record(
        pool,
        &Event {
            account_id: None,
            actor: COMMAND_LINE,
            action,
            subject: Some(subject),
            remote_addr: None,
        },
    )
    .await;
}
