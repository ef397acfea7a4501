//! Who the server serves as. The ledgers are append-only because the serving
//! role may only read and insert there; a role that owns them (or may act as
//! their owner), a superuser, a role exempt from row-level security, or one
//! that could make itself any of those, would make that promise empty. The
//! server refuses to serve as such a role unless told it is development
//! (`--dev-allow-owner-role`), and then says loudly what is at stake.

use std::fmt::Write as _;

use sqlx::PgPool;

/// The append-only tables whose rows the serving role must not be able to rewrite.
pub const LEDGERS: [&str; 3] = ["acceptance_records", "evidence_changes", "access_events"];

/// The group role the serving login role belongs to (migration 22).
pub const SERVING_GROUP: &str = "clearance_server";

/// What PostgreSQL says about the connected role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleFacts {
    pub name: String,
    pub superuser: bool,
    pub bypass_rls: bool,
    pub create_role: bool,
    /// A member of `pg_write_all_data`: may update and delete every table's rows.
    pub writes_all_data: bool,
    /// Ledger tables the role owns, or whose owner it is a member of.
    pub owned_ledgers: Vec<String>,
}

/// A reason a role is too powerful to serve as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Power {
    Superuser,
    BypassRls,
    CreateRole,
    WritesAllData,
    OwnsLedgers(Vec<String>),
}

impl Power {
    /// What the role could do, in a sentence that follows "the role …".
    pub fn why(&self) -> String {
        match self {
            Self::Superuser => "is a superuser: it bypasses every permission, may disable \
                 the append-only triggers and is exempt from row-level security"
                .to_owned(),
            Self::BypassRls => {
                "has BYPASSRLS: row-level security would not keep tenants apart".to_owned()
            }
            Self::CreateRole => {
                "has CREATEROLE: it may grant itself membership in the tables' owner".to_owned()
            }
            Self::WritesAllData => {
                "is a member of pg_write_all_data: it may update and delete the ledgers' rows"
                    .to_owned()
            }
            Self::OwnsLedgers(tables) => format!(
                "owns (or is a member of the owner of) {}: it may disable their append-only \
                 triggers and rewrite or delete their rows",
                tables.join(", ")
            ),
        }
    }
}

/// Every reason `facts` make a role unfit to serve as; none when it is fit.
pub fn too_powerful(facts: &RoleFacts) -> Vec<Power> {
    let mut powers = Vec::new();
    if facts.superuser {
        powers.push(Power::Superuser);
    }
    if facts.bypass_rls {
        powers.push(Power::BypassRls);
    }
    if facts.create_role {
        powers.push(Power::CreateRole);
    }
    if facts.writes_all_data {
        powers.push(Power::WritesAllData);
    }
    if !facts.owned_ledgers.is_empty() {
        powers.push(Power::OwnsLedgers(facts.owned_ledgers.clone()));
    }
    powers
}

/// The refusal (or, in development, the warning): which powers, why they
/// matter, and how to serve instead.
pub fn explain(role: &str, powers: &[Power]) -> String {
    let mut text =
        format!("the database role \"{role}\" in DATABASE_URL is too powerful to serve as:");
    for power in powers {
        let _ = write!(text, "\n  - it {}", power.why());
    }
    let _ = write!(
        text,
        "\nThe ledgers' rows could be rewritten without PostgreSQL refusing it. Serve as a \
         login role in the group {SERVING_GROUP} (DATABASE_URL) and run the migrations as \
         the owner with `server migrate` (CLEARANCE_OWNER_DATABASE_URL): see docs/security.md, \
         \"Database roles\". For development only, --dev-allow-owner-role \
         (CLEARANCE_DEV_ALLOW_OWNER_ROLE=1) serves anyway."
    );
    text
}

/// Reads the connected role's facts.
pub async fn facts(pool: &PgPool) -> Result<RoleFacts, sqlx::Error> {
    let ledgers: Vec<String> = LEDGERS.iter().map(|&table| table.to_owned()).collect();
    let row = sqlx::query!(
        r#"SELECT current_user::text AS "name!",
                  r.rolsuper AS "superuser!", r.rolbypassrls AS "bypass_rls!",
                  r.rolcreaterole AS "create_role!",
                  pg_has_role(current_user, 'pg_write_all_data', 'MEMBER') AS "writes_all_data!",
                  array(SELECT c.relname::text FROM pg_class c
                        WHERE c.relnamespace = 'public'::regnamespace
                          AND c.relname = ANY ($1)
                          AND pg_has_role(current_user, c.relowner, 'MEMBER')
                        ORDER BY c.relname) AS "owned_ledgers!"
           FROM pg_roles r WHERE r.rolname = current_user"#,
        &ledgers,
    )
    .fetch_one(pool)
    .await?;
    Ok(RoleFacts {
        name: row.name,
        superuser: row.superuser,
        bypass_rls: row.bypass_rls,
        create_role: row.create_role,
        writes_all_data: row.writes_all_data,
        owned_ledgers: row.owned_ledgers,
    })
}

/// Refuses a role too powerful to serve as, unless `allow_owner` (development),
/// when it warns instead.
pub async fn check_serving_role(pool: &PgPool, allow_owner: bool) -> anyhow::Result<()> {
    let facts = facts(pool).await?;
    let powers = too_powerful(&facts);
    if powers.is_empty() {
        tracing::info!(role = %facts.name, "serving as a role that may not rewrite the ledgers");
        return Ok(());
    }
    let explanation = explain(&facts.name, &powers);
    if !allow_owner {
        anyhow::bail!("refusing to serve: {explanation}");
    }
    tracing::warn!(
        "DEVELOPMENT ONLY (--dev-allow-owner-role): serving anyway, and migrating at start. \
         {explanation}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serving() -> RoleFacts {
        RoleFacts {
            name: "clearance_app".to_owned(),
            ..RoleFacts::default()
        }
    }

    #[test]
    fn a_role_that_may_only_read_and_append_is_fit_to_serve() {
        assert!(too_powerful(&serving()).is_empty());
    }

    #[test]
    fn the_owner_of_a_ledger_is_refused_naming_the_tables() {
        let owner = RoleFacts {
            name: "clearance".to_owned(),
            create_role: true,
            owned_ledgers: vec!["access_events".to_owned(), "acceptance_records".to_owned()],
            ..RoleFacts::default()
        };
        let powers = too_powerful(&owner);
        assert_eq!(
            powers,
            vec![
                Power::CreateRole,
                Power::OwnsLedgers(vec![
                    "access_events".to_owned(),
                    "acceptance_records".to_owned()
                ])
            ]
        );
        let text = explain(&owner.name, &powers);
        assert!(text.contains(r#"role "clearance""#), "{text}");
        assert!(text.contains("access_events, acceptance_records"), "{text}");
        assert!(
            text.contains("disable their append-only triggers"),
            "{text}"
        );
        assert!(text.contains("clearance_server"), "{text}");
        assert!(text.contains("--dev-allow-owner-role"), "{text}");
        assert!(text.contains("docs/security.md"), "{text}");
    }

    #[test]
    fn superusers_bypassrls_and_writers_of_all_data_are_each_refused() {
        for (facts, power, words) in [
            (
                RoleFacts {
                    superuser: true,
                    ..serving()
                },
                Power::Superuser,
                "superuser",
            ),
            (
                RoleFacts {
                    bypass_rls: true,
                    ..serving()
                },
                Power::BypassRls,
                "row-level security",
            ),
            (
                RoleFacts {
                    writes_all_data: true,
                    ..serving()
                },
                Power::WritesAllData,
                "pg_write_all_data",
            ),
        ] {
            let powers = too_powerful(&facts);
            assert_eq!(powers, vec![power]);
            assert!(explain(&facts.name, &powers).contains(words));
        }
    }
}
