//! Tenants, invitations and row-level security: the database keeps tenants apart
//! even for a query without a tenant filter.

use sqlx::PgPool;

use crate::common::{tenant_form, world, PASSWORD};

use app::domain::access::Viewer;
use server::auth::invitations::{self, InvitationError, Unusable};
use server::tenancy::{self, Acting};
use server::tenants::{self, TenantError};

async fn names(pool: &PgPool, viewer: &Viewer) -> Vec<String> {
    tenants::visible(pool, viewer)
        .await
        .unwrap()
        .into_iter()
        .map(|tenant| tenant.name)
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn each_role_sees_exactly_the_tenants_it_may(pool: PgPool) {
    let w = world(&pool).await;
    assert_eq!(
        names(&pool, &w.operator).await,
        ["Acme Ltd", "Borealis plc"]
    );
    assert_eq!(names(&pool, &w.owner).await, ["Acme Ltd", "Borealis plc"]);
    assert_eq!(names(&pool, &w.sponsor_a).await, ["Acme Ltd"]);
    assert_eq!(names(&pool, &w.sponsor_b).await, ["Borealis plc"]);
    assert!(names(&pool, &Viewer::Public).await.is_empty());
    assert!(w.sponsor_a.reads_tenant(w.a) && !w.sponsor_a.reads_tenant(w.b));
}

#[sqlx::test(migrations = "../migrations")]
async fn row_level_security_alone_hides_other_tenants(pool: PgPool) {
    let w = world(&pool).await;
    // No WHERE clause at all, run as the app's own database role.
    let mut tx = tenancy::begin(&pool, Acting::As(&w.sponsor_a))
        .await
        .unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tenants")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(ids, [w.a]);
    let invitations: i64 = sqlx::query_scalar("SELECT count(*) FROM invitations")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(invitations, 0, "sponsors see no invitations");
    // Nor can a sponsor change a tenant, even its own.
    let changed = sqlx::query("UPDATE tenants SET name = 'Hijacked'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 0);
    tx.rollback().await.unwrap();

    // Outside any scoped transaction the settings are unset: nothing is visible.
    let bare: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(bare, 0);

    // A commercial owner reads all but changes nothing.
    let mut tx = tenancy::begin(&pool, Acting::As(&w.owner)).await.unwrap();
    let changed = sqlx::query("UPDATE tenants SET name = 'Renamed'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 0);
    let insert = sqlx::query("INSERT INTO tenants (slug, name) VALUES ('x', 'X')")
        .execute(&mut *tx)
        .await;
    assert!(insert.is_err(), "the policy refuses the insert");
    let _ = w.b;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_code_filter_alone_keeps_a_sponsor_to_its_tenant_when_row_level_security_is_off(
    pool: PgPool,
) {
    let w = world(&pool).await;
    // The app's role owns the table, so it may switch the policies off: this is
    // the "forgotten policy" case, the mirror of a forgotten WHERE.
    sqlx::query("ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE tenants DISABLE ROW LEVEL SECURITY")
        .execute(&pool)
        .await
        .unwrap();
    let bare: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(bare, 2, "the database no longer hides anything");

    assert_eq!(names(&pool, &w.sponsor_a).await, ["Acme Ltd"]);
    assert_eq!(names(&pool, &w.sponsor_b).await, ["Borealis plc"]);
    assert!(names(&pool, &Viewer::Public).await.is_empty());
    assert_eq!(
        names(&pool, &w.operator).await,
        ["Acme Ltd", "Borealis plc"]
    );

    // The launch rooms are read through the same filter.
    let rooms = |viewer: Viewer| {
        let pool = pool.clone();
        async move {
            server::rooms::load_all(&pool, &viewer)
                .await
                .unwrap()
                .into_iter()
                .map(|room| room.tenant.slug)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(rooms(w.sponsor_a.clone()).await, ["acme"]);
    assert!(rooms(Viewer::Public).await.is_empty());
    assert_eq!(rooms(w.operator.clone()).await, ["acme", "borealis"]);
    for (viewer, slug) in [(&w.sponsor_a, "borealis"), (&w.sponsor_b, "acme")] {
        let head = server::rooms::load_head(&pool, viewer, slug).await.unwrap();
        assert!(head.is_none(), "a sponsor reads another tenant's room");
        let dossier = server::rooms::load(&pool, viewer, slug).await.unwrap();
        assert!(
            dossier.is_none(),
            "a sponsor reads another tenant's records"
        );
    }
    let other = server::rooms::slug_of(&pool, &w.sponsor_a, w.b)
        .await
        .unwrap();
    assert_eq!(other, None);
    let own = server::rooms::slug_of(&pool, &w.sponsor_a, w.a)
        .await
        .unwrap();
    assert_eq!(own.as_deref(), Some("acme"));
}

#[sqlx::test(migrations = "../migrations")]
async fn only_operators_create_tenants_and_invitations(pool: PgPool) {
    let w = world(&pool).await;
    for viewer in [&w.owner, &w.sponsor_a, &Viewer::Public] {
        assert!(matches!(
            tenants::create(
                &pool,
                &crate::common::register(),
                viewer,
                &tenant_form("Other", "other")
            )
            .await,
            Err(TenantError::Forbidden)
        ));
        assert!(matches!(
            invitations::create(&pool, viewer, w.a, "x@example.com", 7).await,
            Err(InvitationError::Forbidden)
        ));
    }
    assert!(matches!(
        tenants::create(
            &pool,
            &crate::common::register(),
            &w.operator,
            &tenant_form("Acme again", "acme")
        )
        .await,
        Err(TenantError::Exists)
    ));
    assert!(matches!(
        tenants::create(
            &pool,
            &crate::common::register(),
            &w.operator,
            &tenant_form("Bad", "Not A Slug!")
        )
        .await,
        Err(TenantError::Invalid(_))
    ));
    assert!(matches!(
        invitations::create(&pool, &w.operator, 9_999, "x@example.com", 7).await,
        Err(InvitationError::UnknownTenant)
    ));
    assert!(matches!(
        invitations::create(&pool, &w.operator, w.a, "x@example.com", 31).await,
        Err(InvitationError::Invalid(_))
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invitation_is_single_use_stored_as_a_hash_and_revocable(pool: PgPool) {
    let w = world(&pool).await;
    let created = invitations::create(&pool, &w.operator, w.a, "second@acme.example", 7)
        .await
        .unwrap();
    let mut tx = tenancy::begin(&pool, Acting::System).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM invitations")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        !stored.contains(&created.token),
        "the token itself is never stored"
    );
    assert!(stored.contains(&invitations::token_hash(&created.token)));

    assert!(invitations::find_pending(&pool, &created.token)
        .await
        .unwrap()
        .is_some());
    // A weak password is refused and the invitation stays usable.
    assert!(matches!(
        invitations::accept(&pool, &created.token, "Second", "short").await,
        Err(InvitationError::Account(_))
    ));
    invitations::accept(&pool, &created.token, "Second", PASSWORD)
        .await
        .unwrap();
    assert!(matches!(
        invitations::accept(&pool, &created.token, "Again", PASSWORD).await,
        Err(InvitationError::NotUsable {
            reason: Unusable::Used,
            ..
        })
    ));
    assert!(invitations::find_pending(&pool, &created.token)
        .await
        .unwrap()
        .is_none());

    let revoked = invitations::create(&pool, &w.operator, w.b, "third@borealis.example", 7)
        .await
        .unwrap();
    assert_eq!(
        invitations::revoke(&pool, &w.operator, revoked.invitation.id)
            .await
            .unwrap(),
        "third@borealis.example"
    );
    assert!(matches!(
        invitations::accept(&pool, &revoked.token, "Third", PASSWORD).await,
        Err(InvitationError::NotUsable {
            reason: Unusable::Revoked,
            ..
        })
    ));
    assert!(matches!(
        invitations::revoke(&pool, &w.sponsor_b, revoked.invitation.id).await,
        Err(InvitationError::Forbidden)
    ));
    assert!(matches!(
        invitations::accept(&pool, "not-a-token", "Nobody", PASSWORD).await,
        Err(InvitationError::NotUsable {
            reason: Unusable::Unknown,
            ..
        })
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_uses_of_one_token_create_one_account(pool: PgPool) {
    let w = world(&pool).await;
    let created = invitations::create(&pool, &w.operator, w.a, "race@acme.example", 7)
        .await
        .unwrap();
    let attempts: Vec<_> = (0..8)
        .map(|index| {
            let pool = pool.clone();
            let token = created.token.clone();
            tokio::spawn(async move {
                invitations::accept(&pool, &token, &format!("Racer {index}"), PASSWORD).await
            })
        })
        .collect();
    let mut accepted = 0;
    for attempt in attempts {
        if attempt.await.unwrap().is_ok() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
    let accounts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts WHERE email = 'race@acme.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(accounts, 1);
}
