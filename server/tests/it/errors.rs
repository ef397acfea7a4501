//! Every cause logged once: a database failure behind a page or a form post is one
//! error line, carrying the cause and the request it happened in, and the person
//! sees a page that says what happened (never the cause).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use http::StatusCode;
use sqlx::PgPool;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::{
    cookie_pair, get_with, post_form, send, sign_in_request, test_app, world, Answer, PASSWORD,
};
use server::auth::session::SessionSettings;

/// The log lines written while it is installed.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// `request`'s answer and the error lines logged while it was served.
async fn answered_with_errors(
    app: &axum::Router,
    request: http::Request<axum::body::Body>,
) -> (Answer, Vec<String>) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let answer = {
        let _guard = tracing::subscriber::set_default(subscriber);
        send(app, request).await
    };
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let errors = log
        .lines()
        .filter(|line| line.contains("ERROR"))
        .map(str::to_owned)
        .collect();
    (answer, errors)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failing_database_is_one_error_line_with_its_cause_and_a_page_that_says_so(pool: PgPool) {
    let app = test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    world(&pool).await;
    let signed_in = send(&app, sign_in_request("ops@example.com", PASSWORD, "/")).await;
    let cookie = cookie_pair(&signed_in.cookie.unwrap());
    // The evidence table disappears: every room read and evidence change fails.
    sqlx::query("ALTER TABLE evidence_changes RENAME TO evidence_changes_elsewhere")
        .execute(&pool)
        .await
        .unwrap();

    for uri in ["/rooms", "/rooms/acme"] {
        let (answer, errors) = answered_with_errors(&app, get_with(uri, &cookie)).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(!answer.body.contains("evidence_changes"), "{}", answer.body);
        assert_eq!(errors.len(), 1, "{uri}: {errors:#?}");
        assert!(errors[0].contains("evidence_changes"), "{}", errors[0]);
        assert!(errors[0].contains(&format!("path={uri}")), "{}", errors[0]);
        assert!(errors[0].contains("request_id="), "{}", errors[0]);
    }

    let attach = post_form(
        "/api/rooms/evidence",
        Some(&cookie),
        &[
            ("slug", "acme"),
            ("action", "attach"),
            ("gate_id", "order-form-scope"),
            ("item", "Signed order form or written approval reference"),
            ("reference", "PO-1"),
        ],
    );
    let (answer, errors) = answered_with_errors(&app, attach).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        answer.body.starts_with("<!DOCTYPE html>"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("Temporarily unavailable"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("href=\"/rooms/acme\""),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("evidence_changes"), "{}", answer.body);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("evidence_changes"), "{}", errors[0]);

    // The administration page reads the access log (through its view).
    sqlx::query("ALTER VIEW access_log RENAME TO access_log_elsewhere")
        .execute(&pool)
        .await
        .unwrap();
    let (answer, errors) = answered_with_errors(&app, get_with("/admin", &cookie)).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("access_log"), "{}", errors[0]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refused_form_post_is_a_page_that_says_why_and_links_back(pool: PgPool) {
    let app = test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    world(&pool).await;
    let signed_in = send(&app, sign_in_request("owner@example.com", PASSWORD, "/")).await;
    let cookie = cookie_pair(&signed_in.cookie.unwrap());
    let attach = post_form(
        "/api/rooms/evidence",
        Some(&cookie),
        &[
            ("slug", "acme"),
            ("action", "attach"),
            ("gate_id", "order-form-scope"),
            ("item", "Signed order form or written approval reference"),
        ],
    );
    let answer = send(&app, attach).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer.body.contains("<h1>Not allowed</h1>"),
        "{}",
        answer.body
    );
    assert!(answer
        .body
        .contains("only operators attach and detach evidence"));
    assert!(
        answer.body.contains("href=\"/rooms/acme\""),
        "{}",
        answer.body
    );

    let tenant = post_form(
        "/admin/tenants",
        Some(&cookie),
        &[
            ("name", "Zed"),
            ("slug", "zed"),
            ("motion", "managed-private-beta"),
            ("billing_route", "invoice_only"),
        ],
    );
    let answer = send(&app, tenant).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("href=\"/admin\""), "{}", answer.body);

    let missing = post_form(
        "/api/rooms/revocation",
        Some(&cookie),
        &[("slug", "no-such-room"), ("signer_name", "X")],
    );
    let answer = send(&app, missing).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
}
