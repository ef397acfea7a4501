//! The catalogue's events written with the changes that cause them: a
//! signature, its going stale (once, however often readiness is read) and its
//! revocation; and who may read which: tenant events reach only those allowed
//! to see the tenant.

use chrono::Utc;
use sqlx::PgPool;

use app::domain::access::Viewer;
use app::domain::launch_room::RevocationForm;
use server::events::{rooms_watch, store};
use server::rooms::{self, Submission};

use crate::common::{attach_everything, register, world};
use crate::rooms::{acceptance, inputs};

async fn types_seen(pool: &PgPool, viewer: &Viewer) -> Vec<(String, Option<String>)> {
    store::recent(pool, viewer, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|event| {
            let tenant = event.data["tenant"].as_str().map(str::to_owned);
            (event.kind.as_str().to_owned(), tenant)
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_signature_going_stale_and_its_revocation_are_events_of_its_tenant_only(pool: PgPool) {
    let register = register();
    let w = world(&pool).await;
    let before = inputs(&register, &[]);
    attach_everything(&pool, &w.operator, "acme", "CRM-7").await;
    assert_eq!(
        rooms_watch::record(&pool, &register, &before, Utc::now())
            .await
            .unwrap(),
        0
    );
    rooms::submit(
        &pool,
        &register,
        &before,
        &w.sponsor_a,
        None,
        Submission::Accept(&acceptance(&before, &["support-email"])),
    )
    .await
    .unwrap();
    assert_eq!(
        rooms_watch::record(&pool, &register, &before, Utc::now())
            .await
            .unwrap(),
        0,
        "accepted, not stale"
    );

    // A dependency is configured: what was signed no longer holds.
    let name = register.dependency_names()[0].to_owned();
    let after = inputs(&register, &[&name]);
    assert_eq!(
        rooms_watch::record(&pool, &register, &after, Utc::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        rooms_watch::record(&pool, &register, &after, Utc::now())
            .await
            .unwrap(),
        0,
        "a room goes stale once"
    );
    let seen = store::recent(&pool, &w.sponsor_a, 100).await.unwrap();
    let stale = seen
        .iter()
        .find(|event| event.kind.as_str() == "acceptance.stale")
        .expect("the stale event");
    let reason = stale.data["reason"].as_str().unwrap();
    assert!(
        reason.contains(&name),
        "the reason names what changed: {reason}"
    );
    assert_eq!(stale.path, "/rooms/acme");

    rooms::submit(
        &pool,
        &register,
        &after,
        &w.sponsor_a,
        None,
        Submission::Revoke(&RevocationForm {
            signer_name: "Ada Buyer".to_owned(),
            signer_role: "Chief Operating Officer".to_owned(),
            reason: "Re-scoping the order form.".to_owned(),
        }),
    )
    .await
    .unwrap();

    let sponsor_a = types_seen(&pool, &w.sponsor_a).await;
    for kind in [
        "evidence.changed",
        "acceptance.signed",
        "acceptance.stale",
        "acceptance.revoked",
    ] {
        assert!(
            sponsor_a
                .iter()
                .any(|(seen, tenant)| seen == kind && tenant.as_deref() == Some("acme")),
            "{kind} in {sponsor_a:?}"
        );
    }
    let operator = types_seen(&pool, &w.operator).await;
    assert_eq!(
        operator.len(),
        sponsor_a.len(),
        "operators see every tenant"
    );
    assert!(
        types_seen(&pool, &w.sponsor_b).await.is_empty(),
        "another tenant's sponsor sees none of them"
    );
    assert!(
        types_seen(&pool, &Viewer::Public).await.is_empty(),
        "the public sees no tenant event"
    );
}
