//! Whether the database's schema is the one this build expects, without
//! migrating: the serving role may not (and should not) change the schema, so
//! the server only compares `_sqlx_migrations` with the migrations it embeds
//! and says what to run when any is missing.

use sqlx::migrate::Migrator;
use sqlx::PgPool;

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A migration this build has that the database has not applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub version: i64,
    pub description: String,
}

/// How the database's applied migrations compare with this build's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaState {
    /// Known here, not applied there: the server cannot serve.
    pub pending: Vec<Pending>,
    /// Applied there, unknown here: a newer build migrated; serving goes on.
    pub unknown: Vec<i64>,
    /// Applied with different contents than this build's.
    pub changed: Vec<i64>,
}

/// Compares this build's migrations (`known`: version, description, checksum)
/// with the successfully applied ones (`applied`: version, checksum).
pub fn compare(known: &[(i64, &str, &[u8])], applied: &[(i64, Vec<u8>)]) -> SchemaState {
    let mut state = SchemaState::default();
    for (version, description, checksum) in known {
        match applied.iter().find(|(done, _)| done == version) {
            None => state.pending.push(Pending {
                version: *version,
                description: (*description).to_owned(),
            }),
            Some((_, stored)) if stored.as_slice() != *checksum => state.changed.push(*version),
            Some(_) => {}
        }
    }
    state.unknown = applied
        .iter()
        .map(|(version, _)| *version)
        .filter(|version| !known.iter().any(|(known, _, _)| known == version))
        .collect();
    state
}

impl SchemaState {
    /// The error when migrations are missing, naming them and what to run.
    pub fn missing(&self) -> Option<String> {
        let (first, last) = (self.pending.first()?, self.pending.last()?);
        let which = if self.pending.len() == 1 {
            format!("{} ({})", first.version, first.description)
        } else {
            format!(
                "{} migrations, {} ({}) to {} ({})",
                self.pending.len(),
                first.version,
                first.description,
                last.version,
                last.description
            )
        };
        Some(format!(
            "the database schema is not up to date: {which} not applied. The server does not \
             migrate as the serving role: run `server migrate` with the owner's URL in \
             CLEARANCE_OWNER_DATABASE_URL (docs/operations.md)"
        ))
    }
}

/// Reads what the database has applied and compares it with this build.
pub async fn state(pool: &PgPool) -> Result<SchemaState, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    let applied: Vec<(i64, Vec<u8>)> = if exists {
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let known: Vec<(i64, &str, &[u8])> = MIGRATOR
        .iter()
        .filter(|migration| !migration.migration_type.is_down_migration())
        .map(|migration| {
            (
                migration.version,
                migration.description.as_ref(),
                migration.checksum.as_ref(),
            )
        })
        .collect();
    Ok(compare(&known, &applied))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [(i64, &str, &[u8]); 3] = [
        (1, "readiness snapshots", b"a"),
        (2, "accounts", b"b"),
        (3, "least privilege", b"c"),
    ];

    #[test]
    fn a_database_with_every_migration_applied_is_current() {
        let applied = vec![(1, b"a".to_vec()), (2, b"b".to_vec()), (3, b"c".to_vec())];
        let state = compare(&KNOWN, &applied);
        assert_eq!(state, SchemaState::default());
        assert_eq!(state.missing(), None);
    }

    #[test]
    fn missing_migrations_are_named_with_what_to_run() {
        let state = compare(&KNOWN, &[(1, b"a".to_vec())]);
        assert_eq!(
            state.pending.iter().map(|p| p.version).collect::<Vec<_>>(),
            [2, 3]
        );
        let text = state.missing().expect("migrations are missing");
        assert!(
            text.contains("2 migrations, 2 (accounts) to 3 (least privilege)"),
            "{text}"
        );
        assert!(text.contains("server migrate"), "{text}");
        assert!(text.contains("CLEARANCE_OWNER_DATABASE_URL"), "{text}");
        let empty = compare(&KNOWN, &[]);
        assert_eq!(empty.pending.len(), 3);
    }

    #[test]
    fn newer_and_altered_migrations_are_told_apart() {
        let applied = vec![
            (1, b"a".to_vec()),
            (2, b"changed".to_vec()),
            (3, b"c".to_vec()),
            (4, b"d".to_vec()),
        ];
        let state = compare(&KNOWN, &applied);
        assert!(state.pending.is_empty());
        assert_eq!(state.changed, [2]);
        assert_eq!(state.unknown, [4]);
    }
}
