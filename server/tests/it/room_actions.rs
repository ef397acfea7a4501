//! The launch room's server functions as the hydrated `ActionForm` calls them
//! (asking for JSON): typed errors with their status, for the form to show beside
//! the fields they name, and a redirect to the room when done.

use axum::body::Body;
use http::{header, Request, StatusCode};
use sqlx::PgPool;

use crate::common::{
    attach_everything, cookie_pair, send, sign_in_request, test_app, world, PASSWORD,
};
use server::auth::session::SessionSettings;

fn call(uri: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap()
}

async fn signed_in(app: &axum::Router, email: &str) -> String {
    cookie_pair(
        &send(app, sign_in_request(email, PASSWORD, "/"))
            .await
            .cookie
            .unwrap(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn the_hydrated_forms_get_typed_errors_and_a_redirect_when_done(pool: PgPool) {
    let app = test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = world(&pool).await;
    let operator = signed_in(&app, "ops@example.com").await;
    let sponsor = signed_in(&app, "sponsor@acme.example").await;
    let item = "Signed order form or written approval reference";

    // Refused over a field: 422 and the field named, nothing stored.
    let refused = send(
        &app,
        call(
            "/api/rooms/evidence",
            &operator,
            &[
                ("slug", "acme"),
                ("action", "attach"),
                ("gate_id", "order-form-scope"),
                ("item", item),
            ],
        ),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let error: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(error["Invalid"][0]["field"], "reference", "{error}");
    assert!(refused.location.is_empty());

    // Done: the server's message, and the room to go to.
    let attached = send(
        &app,
        call(
            "/api/rooms/evidence",
            &operator,
            &[
                ("slug", "acme"),
                ("action", "attach"),
                ("gate_id", "order-form-scope"),
                ("item", item),
                ("reference", "PO-1"),
            ],
        ),
    )
    .await;
    assert_eq!(attached.status, StatusCode::OK, "{}", attached.body);
    assert_eq!(
        serde_json::from_str::<String>(&attached.body).unwrap(),
        format!("Attached evidence to “{item}”.")
    );
    assert!(
        attached.location.starts_with("/rooms/acme?done="),
        "{}",
        attached.location
    );

    // Not allowed: 403 and the reason, for the form to show.
    let forbidden = send(
        &app,
        call(
            "/api/rooms/revocation",
            &operator,
            &[("slug", "acme"), ("reason", "x")],
        ),
    )
    .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let error: serde_json::Value = serde_json::from_str(&forbidden.body).unwrap();
    assert!(
        error["Forbidden"]
            .as_str()
            .unwrap()
            .contains("buyer sponsor"),
        "{error}"
    );

    // Another tenant's room does not exist for this sponsor.
    attach_everything(&pool, &w.operator, "borealis", "REF-1").await;
    let missing = send(
        &app,
        call(
            "/api/rooms/revocation",
            &sponsor,
            &[
                ("slug", "borealis"),
                ("signer_name", "A"),
                ("signer_role", "B"),
                ("reason", "C"),
            ],
        ),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(missing.body, "\"NotFound\"");
}
