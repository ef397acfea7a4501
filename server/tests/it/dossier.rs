//! The dossier reads a room's records and the heads they are verified against in
//! one snapshot: signatures landing while it is read never make an intact chain
//! look broken.

use std::collections::BTreeSet;

use axum::body::Body;
use http::{header, Request, StatusCode};
use sqlx::PgPool;

use crate::common::{
    attach_everything, cookie_pair, send, sign_in_request, test_app, world, PASSWORD,
};
use app::domain::launch_room::AcceptanceForm;
use server::auth::session::SessionSettings;
use server::rooms::{self, Submission};

const SIGNATURES: usize = 80;

#[sqlx::test(migrations = "../migrations")]
async fn signatures_made_while_dossiers_download_never_make_one_report_a_broken_chain(
    pool: PgPool,
) {
    let app = test_app(&pool, None, SessionSettings::default()).await;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let signed_in = send(
        &app.router,
        sign_in_request("ops@example.com", PASSWORD, "/"),
    )
    .await;
    let cookie = cookie_pair(&signed_in.cookie.unwrap());

    let signer = tokio::spawn({
        let (pool, clearance, sponsor) = (pool.clone(), app.clearance.clone(), w.sponsor_a);
        async move {
            for index in 0..SIGNATURES {
                let form = AcceptanceForm {
                    signer_name: "Ada Buyer".to_owned(),
                    signer_role: "COO".to_owned(),
                    approval_reference: format!("PO-{index}"),
                    readiness_digest: clearance.current().readiness.inputs.digest(),
                    ..AcceptanceForm::default()
                };
                rooms::submit_now(&pool, &clearance, &sponsor, None, Submission::Accept(&form))
                    .await
                    .unwrap();
            }
        }
    });

    let mut lengths = BTreeSet::new();
    let mut dossiers = 0;
    loop {
        let done = signer.is_finished();
        let request = Request::get("/api/platform/launch-dossier?tenant=acme")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        let answer = send(&app.router, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let dossier: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        let verification = &dossier["parts"]["acceptance_chain"]["verification"];
        assert_eq!(verification["acceptance"]["intact"], true, "{verification}");
        assert_eq!(verification["evidence"]["intact"], true, "{verification}");
        lengths.insert(verification["acceptance"]["records"].as_u64().unwrap());
        dossiers += 1;
        if done {
            break;
        }
    }
    signer.await.unwrap();
    // The downloads overlapped the signatures: they saw the chain at several lengths.
    assert!(
        lengths.len() > 2,
        "{dossiers} dossiers saw lengths {lengths:?}"
    );
    assert_eq!(lengths.last(), Some(&(SIGNATURES as u64)));
}
