//! The bad-input battery: every state-changing endpoint and form, and the server
//! functions, against oversized bodies (declared and streamed), bad UTF-8,
//! malformed and wrongly typed JSON, overlong and control-character strings, and
//! script and SQL meta-characters. Each gets a clear refusal and the database is
//! unchanged, checked table by table after every request.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{cookie_pair, send, sign_in_request, world, Answer, PASSWORD};
use server::auth::session::SessionSettings;
use server::auth::tokens;
use server::input::BODY_LIMIT;
use server::tenancy::{self, Acting};

const CI_TOKEN: &str = "ci-token-0123456789abcdef0123456789abcdef";

/// Every stored row, per table, as a digest. The access log (and its bursts'
/// counts) is left out on purpose: refusals are recorded there (who, what, from
/// where), by design. So is the transparency log, which mirrors the ledgers
/// compared here (and the access log) and is sequenced in the background.
async fn fingerprint(pool: &PgPool) -> BTreeMap<String, String> {
    let mut tx = tenancy::begin(pool, Acting::System).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'
           AND tablename NOT IN ('access_events', 'access_event_repeats', '_sqlx_migrations')
           AND tablename NOT LIKE 'log\\_%' ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    let mut digests = BTreeMap::new();
    for table in tables {
        let digest: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        ))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        digests.insert(table, digest.unwrap_or_default());
    }
    tx.commit().await.unwrap();
    digests
}

#[derive(Clone, Copy)]
enum Kind {
    Json,
    Form,
}

/// A state-changing endpoint, with what it takes to reach its handler.
struct Endpoint {
    method: &'static str,
    uri: String,
    kind: Kind,
    cookie: Option<String>,
    token: Option<String>,
}

impl Endpoint {
    fn request(&self, body: Body, length: Option<usize>) -> Request<Body> {
        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.uri)
            .header("sec-fetch-site", "same-origin")
            .header(
                header::CONTENT_TYPE,
                match self.kind {
                    Kind::Json => "application/json",
                    Kind::Form => "application/x-www-form-urlencoded",
                },
            );
        if let Some(length) = length {
            request = request.header(header::CONTENT_LENGTH, length);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(body).unwrap()
    }

    fn bytes(&self, body: impl Into<Bytes>) -> Request<Body> {
        let body = body.into();
        let length = body.len();
        self.request(Body::from(body), Some(length))
    }

    /// `chunks` chunks of 1 KiB, with no Content-Length: the size is only known
    /// by reading.
    fn streamed(&self, chunks: usize) -> Request<Body> {
        let filler = match self.kind {
            Kind::Json => b'[',
            Kind::Form => b'a',
        };
        let stream = futures::stream::iter(
            (0..chunks).map(move |_| Ok::<_, std::io::Error>(Bytes::from(vec![filler; 1024]))),
        );
        self.request(Body::from_stream(stream), None)
    }
}

/// A refusal a client can act on: 4xx with a message, or (for a plain form) a
/// redirect back whose `error` names what to fix.
fn assert_refused(what: &str, answer: &Answer, expected: Option<StatusCode>) {
    match expected {
        Some(status) => assert_eq!(answer.status, status, "{what}: {}", answer.body),
        None => {
            let form_error =
                answer.status == StatusCode::SEE_OTHER && answer.location.contains("error=");
            assert!(
                answer.status.is_client_error() || form_error,
                "{what}: {} {} {}",
                answer.status,
                answer.location,
                answer.body
            );
        }
    }
    if answer.status != StatusCode::SEE_OTHER {
        assert!(!answer.body.trim().is_empty(), "{what}: no message");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_bad_input_is_refused_and_changes_nothing(pool: PgPool) {
    let world = world(&pool).await;
    let app = crate::common::test_app(&pool, Some(CI_TOKEN), SessionSettings::default()).await;
    let app = &app.router;
    let (_, sponsor_token) = tokens::create(&pool, "sponsor@acme.example", "battery")
        .await
        .unwrap();
    let sign_in = |email: &'static str| async move {
        let answer = send(app, sign_in_request(email, PASSWORD, "/")).await;
        cookie_pair(&answer.cookie.unwrap())
    };
    let operator = sign_in("ops@example.com").await;
    let sponsor = sign_in("sponsor@acme.example").await;
    // A room ready for acceptance, so its signing form is on the page.
    crate::common::attach_everything(&pool, &world.operator, "acme", "PO-1").await;

    let json = |method, uri: &str, token: &str| Endpoint {
        method,
        uri: uri.to_owned(),
        kind: Kind::Json,
        cookie: None,
        token: Some(token.to_owned()),
    };
    let form = |uri: &str, cookie: Option<&String>| Endpoint {
        method: "POST",
        uri: uri.to_owned(),
        kind: Kind::Form,
        cookie: cookie.cloned(),
        token: None,
    };
    let proof_runs = json(
        "POST",
        "/api/proofs/support-status-notification/runs",
        CI_TOKEN,
    );
    let acceptance = json(
        "PATCH",
        "/api/platform/launch-acceptance?tenant=acme",
        &sponsor_token,
    );
    let endpoints = vec![
        proof_runs,
        acceptance,
        form("/auth/login", None),
        form("/auth/invitations/accept", None),
        form("/admin/accounts", Some(&operator)),
        form("/admin/accounts/disable", Some(&operator)),
        form("/admin/accounts/role", Some(&operator)),
        form("/admin/tenants", Some(&operator)),
        form("/admin/invitations", Some(&operator)),
        form("/admin/invitations/1/revoke", Some(&operator)),
        form("/rooms/acme/profile", Some(&operator)),
        form("/api/rooms/evidence", Some(&operator)),
        form("/rooms/acme/draft", Some(&sponsor)),
        form("/api/rooms/acceptance", Some(&sponsor)),
        form("/api/rooms/revocation", Some(&sponsor)),
        // Server functions read, but take bodies too.
        form("/api/clearance", None),
        form("/api/rooms", Some(&operator)),
        form("/auth/logout", Some(&operator)),
    ];

    let before = fingerprint(&pool).await;
    let unchanged = |what: String| {
        let before = before.clone();
        let pool = pool.clone();
        async move {
            assert_eq!(
                fingerprint(&pool).await,
                before,
                "{what} changed the database"
            );
        }
    };

    for endpoint in &endpoints {
        let name = format!("{} {}", endpoint.method, endpoint.uri);

        let answer = send(app, endpoint.bytes(vec![b'a'; BODY_LIMIT + 1])).await;
        assert_refused(
            &format!("{name}: declared oversize"),
            &answer,
            Some(StatusCode::PAYLOAD_TOO_LARGE),
        );
        let answer = send(app, endpoint.streamed(BODY_LIMIT / 1024 + 8)).await;
        assert_refused(
            &format!("{name}: streamed oversize"),
            &answer,
            Some(StatusCode::PAYLOAD_TOO_LARGE),
        );
        unchanged(format!("{name}: oversize")).await;

        let bad_utf8: &[&[u8]] = match endpoint.kind {
            Kind::Json => &[b"{\"status\":\"passed\",\"actor\":\"\xff\xfe\"}"],
            Kind::Form => &[
                b"email=ops%40example.com&name=%FF%FE&signer_name=%C0%AF",
                b"email=\xff@example.com&name=Sam",
            ],
        };
        for body in bad_utf8 {
            let answer = send(app, endpoint.bytes(body.to_vec())).await;
            assert_refused(
                &format!("{name}: bad UTF-8"),
                &answer,
                Some(StatusCode::BAD_REQUEST),
            );
        }
        unchanged(format!("{name}: bad UTF-8")).await;
    }

    // Malformed and wrongly typed JSON, on both JSON endpoints.
    for endpoint in &endpoints[..2] {
        let name = format!("{} {}", endpoint.method, endpoint.uri);
        for body in [
            "",
            "{\"status\":",
            "not json",
            "[]",
            "null",
            "\"passed\"",
            r#"{"status": 1, "actor": [], "excerpt": {}}"#,
            r#"{"signer_name": 7, "signer_role": true, "approval_reference": null, "readiness_digest": []}"#,
            r#"{"status": "passed", "actor": "ci", "unexpected": "field"}"#,
        ] {
            let answer = send(app, endpoint.bytes(body)).await;
            assert_refused(&format!("{name}: {body:?}"), &answer, None);
            let message: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
            assert!(
                message["error"].is_string(),
                "{name}: {body:?}: {}",
                answer.body
            );
        }
        unchanged(format!("{name}: malformed JSON")).await;
    }

    // Overlong, control-character, script and SQL values: 422 naming the field.
    let proof_runs = &endpoints[0];
    let acceptance = &endpoints[1];
    let long = "x".repeat(10_000);
    for (endpoint, body, field) in [
        (
            proof_runs,
            json!({ "status": "passed", "actor": long, "excerpt": "ok" }),
            "actor",
        ),
        (
            proof_runs,
            json!({ "status": "passed", "actor": "ci\u{0}\u{7}", "excerpt": "ok" }),
            "actor",
        ),
        (
            proof_runs,
            json!({ "status": "passed'; DROP TABLE proof_runs; --", "actor": "ci", "excerpt": "" }),
            "status",
        ),
        (
            acceptance,
            json!({ "signer_name": long, "signer_role": "CTO", "approval_reference": "PO-1",
                    "readiness_digest": "x" }),
            "signer_name",
        ),
        (
            acceptance,
            json!({ "signer_name": "Sam\u{1b}[2J", "signer_role": "CTO", "approval_reference": "PO-1",
                    "readiness_digest": "x" }),
            "signer_name",
        ),
        (
            acceptance,
            json!({ "signer_name": "Sam", "signer_role": "CTO", "approval_reference": "PO-1",
                    "exclusions": ["<script>alert(1)</script>", "x' OR '1'='1"],
                    "readiness_digest": "x" }),
            "exclusions",
        ),
    ] {
        let answer = send(app, endpoint.bytes(body.to_string())).await;
        let what = format!("{} {}: {field}", endpoint.method, endpoint.uri);
        assert_refused(&what, &answer, Some(StatusCode::UNPROCESSABLE_ENTITY));
        let message: Value = serde_json::from_str(&answer.body).unwrap();
        let fields: Vec<&str> = message["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|error| error["field"].as_str())
            .chain(message["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{what}: {}", answer.body);
        assert!(!answer.body.contains("<script>"), "{what}: {}", answer.body);
        unchanged(what).await;
    }

    // Script and SQL meta-characters in identifiers: nothing matches them.
    for (endpoint, uri) in [
        (
            proof_runs,
            "/api/proofs/x'%3B%20DROP%20TABLE%20proof_runs%3B--/runs",
        ),
        (proof_runs, "/api/proofs/%3Cscript%3E/runs"),
        (
            acceptance,
            "/api/platform/launch-acceptance?tenant=acme'%20OR%20'1'%3D'1",
        ),
    ] {
        let endpoint = Endpoint {
            uri: uri.to_owned(),
            method: endpoint.method,
            kind: endpoint.kind,
            cookie: None,
            token: endpoint.token.clone(),
        };
        let body = json!({ "status": "passed", "actor": "ci", "excerpt": "",
                           "signer_name": "Sam", "signer_role": "CTO",
                           "approval_reference": "PO-1", "readiness_digest": "x" });
        let answer = send(app, endpoint.bytes(body.to_string())).await;
        assert_refused(uri, &answer, None);
        assert!(!answer.body.contains("<script>"), "{uri}: {}", answer.body);
        unchanged(uri.to_owned()).await;
    }

    // The forms' own validation, as a person sees it: posted without JavaScript,
    // the form comes back with an alert naming what to fix.
    let long = "y".repeat(300);
    for (uri, cookie, fields, shown) in [
        (
            "/admin/accounts",
            &operator,
            vec![
                ("email", "new@example.com"),
                ("name", long.as_str()),
                ("role", "operator"),
                ("password", PASSWORD),
            ],
            "name",
        ),
        (
            "/admin/accounts",
            &operator,
            vec![
                ("email", "<script>@example.com"),
                ("name", "Sam"),
                ("role", "operator"),
                ("password", PASSWORD),
            ],
            "e-mail address",
        ),
        (
            "/admin/accounts/role",
            &operator,
            vec![("email", "owner@example.com"), ("role", "superuser'--")],
            "role",
        ),
        (
            "/admin/tenants",
            &operator,
            vec![
                ("name", "Evil\u{0}Corp"),
                ("slug", "evil"),
                ("motion", "managed-private-beta"),
                ("billing_route", "invoice-only"),
            ],
            "control characters",
        ),
        (
            "/admin/tenants",
            &operator,
            vec![
                ("name", "Evil Corp"),
                ("slug", "evil'; DROP TABLE tenants;--"),
                ("motion", "managed-private-beta"),
                ("billing_route", "invoice-only"),
            ],
            "slug",
        ),
        (
            "/rooms/acme/draft",
            &sponsor,
            vec![
                ("signer_name", long.as_str()),
                ("signer_role", "CTO"),
                ("approval_reference", "PO-1"),
            ],
            "data-testid=\"signer_name-error\"",
        ),
        (
            "/api/rooms/acceptance",
            &sponsor,
            vec![
                ("signer_name", "Sam\u{7}"),
                ("signer_role", "CTO"),
                ("approval_reference", "PO-1"),
                ("readiness_digest", "x"),
                ("slug", "acme"),
            ],
            "data-testid=\"signer_name-error\"",
        ),
    ] {
        let what = format!("POST {uri} {:?}", fields[0]);
        let answer = send(app, crate::common::post_form(uri, Some(cookie), &fields)).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{what}: {}",
            answer.body
        );
        // Browsers keep the fragment to themselves.
        let location = answer.location.split('#').next().unwrap();
        let page = send(app, crate::common::get_with(location, cookie)).await;
        assert!(
            page.body.contains("role=\"alert\"") && page.body.contains(shown),
            "{what}: {} shows no alert with {shown:?}",
            answer.location
        );
        assert!(!page.body.contains("<script>@"), "{what}");
        unchanged(what).await;
    }
}
