//! Launch rooms over HTTP: the seed's own proof — an owner, a granted employer
//! (tenant A's sponsor), a denied employer (tenant B's sponsor) and the public —
//! through the page, the server function and the JSON API; signing through the
//! plain forms and through `PATCH /api/platform/launch-acceptance`.

use axum::body::Body;
use http::{header, Request, StatusCode};
use sqlx::PgPool;

use crate::common::{
    attach_everything, cookie_pair, get_with, post_form, send, sign_in_request, world, PASSWORD,
};
use server::auth::session::SessionSettings;
use server::auth::tokens;

async fn sign_in(app: &axum::Router, email: &str) -> String {
    let answer = send(app, sign_in_request(email, PASSWORD, "/")).await;
    cookie_pair(&answer.cookie.unwrap())
}

fn server_fn(uri: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

fn api(
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    let mut tx = server::tenancy::begin(pool, server::tenancy::Acting::System)
        .await
        .unwrap();
    let n = sqlx::query_scalar(sql).fetch_one(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    n
}

#[sqlx::test(migrations = "../migrations")]
async fn owner_granted_and_denied_employers_through_page_server_function_and_api(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let owner = sign_in(&app, "owner@example.com").await;
    let granted = sign_in(&app, "sponsor@acme.example").await;
    let denied = sign_in(&app, "sponsor@borealis.example").await;
    let (_, granted_token) = tokens::create(&pool, "sponsor@acme.example", "ci")
        .await
        .unwrap();
    let (_, denied_token) = tokens::create(&pool, "sponsor@borealis.example", "ci")
        .await
        .unwrap();
    let (_, owner_token) = tokens::create(&pool, "owner@example.com", "ci")
        .await
        .unwrap();

    // The page.
    for (cookie, status) in [
        (&owner, StatusCode::OK),
        (&granted, StatusCode::OK),
        (&denied, StatusCode::NOT_FOUND),
    ] {
        let page = send(&app, get_with("/rooms/acme", cookie)).await;
        assert_eq!(page.status, status, "{cookie}");
        assert_eq!(page.body.contains("REF-1"), status == StatusCode::OK);
    }
    let public = send(
        &app,
        Request::get("/rooms/acme").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(public.status, StatusCode::UNAUTHORIZED);
    assert!(!public.body.contains("Acme Ltd"));
    // Only the granted sponsor is offered the acceptance form; only the owner sees both tenants.
    assert!(send(&app, get_with("/rooms/acme", &granted))
        .await
        .body
        .contains(r#"action="/rooms/acme/draft""#));
    assert!(!send(&app, get_with("/rooms/acme", &owner))
        .await
        .body
        .contains(r#"action="/rooms/acme/draft""#));
    let list = send(&app, get_with("/rooms", &denied)).await;
    assert!(list.body.contains("Borealis plc") && !list.body.contains("Acme Ltd"));
    let list = send(&app, get_with("/rooms", &owner)).await;
    assert!(list.body.contains("Borealis plc") && list.body.contains("Acme Ltd"));

    // The server function.
    for (cookie, granted_access) in [
        (Some(&owner), true),
        (Some(&granted), true),
        (Some(&denied), false),
        (None, false),
    ] {
        let answer = send(
            &app,
            server_fn("/api/room", cookie.map(String::as_str), "slug=acme&tick=0"),
        )
        .await;
        assert_eq!(
            answer.body.contains("REF-1"),
            granted_access,
            "{}",
            answer.body
        );
    }

    // The JSON API, by token.
    let uri = "/api/platform/launch-acceptance?tenant=acme";
    for (token, status) in [
        (Some(owner_token.as_str()), StatusCode::OK),
        (Some(granted_token.as_str()), StatusCode::OK),
        (Some(denied_token.as_str()), StatusCode::NOT_FOUND),
        (Some("clr_not-a-token"), StatusCode::UNAUTHORIZED),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let answer = send(&app, api("GET", uri, token, None)).await;
        assert_eq!(answer.status, status, "{token:?}: {}", answer.body);
        assert_eq!(
            answer.body.contains(r#""tenant":"acme""#),
            status == StatusCode::OK
        );
    }
    // The launch-room pack, likewise.
    for (token, status) in [
        (owner_token.as_str(), StatusCode::OK),
        (granted_token.as_str(), StatusCode::OK),
        (denied_token.as_str(), StatusCode::NOT_FOUND),
    ] {
        let answer = send(
            &app,
            api(
                "GET",
                "/api/platform/launch-room?tenant=acme",
                Some(token),
                None,
            ),
        )
        .await;
        assert_eq!(answer.status, status, "{}", answer.body);
        assert_eq!(answer.body.contains("REF-1"), status == StatusCode::OK);
        if status == StatusCode::OK {
            let room: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(room["format"], "clearance.launch-room/1");
            assert_eq!(room["state"], "ready_for_acceptance");
            assert_eq!(room["evidence_changes"].as_array().unwrap().len(), 11);
        }
    }
    assert_eq!(
        send(&app, api("GET", "/api/platform/launch-room", None, None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // The denied sponsor's own document is theirs alone.
    let own = send(
        &app,
        api(
            "GET",
            "/api/platform/launch-acceptance",
            Some(&denied_token),
            None,
        ),
    )
    .await;
    assert!(own.body.contains(r#""tenant":"borealis""#), "{}", own.body);
    assert!(
        count(
            &pool,
            "SELECT coalesce(sum(count), 0)::bigint FROM access_log WHERE action = 'access_denied'"
        )
        .await
            >= 3
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sponsor_signs_through_the_plain_forms_after_a_review(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let sponsor = sign_in(&app, "sponsor@acme.example").await;

    // Errors name their fields, keep the entries and store nothing.
    let answer = send(
        &app,
        post_form(
            "/rooms/acme/draft",
            Some(&sponsor),
            &[("signer_name", "<b>Ada</b>"), ("signer_role", "")],
        ),
    )
    .await;
    assert_eq!(answer.location, "/rooms/acme#acceptance");
    let page = send(&app, get_with("/rooms/acme", &sponsor)).await;
    assert!(page.body.contains("enter the signer role"));
    assert!(page.body.contains("enter the approval reference"));
    assert!(
        page.body.contains("value=\"&lt;b&gt;Ada&lt;/b&gt;\""),
        "kept and escaped"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM acceptance_records").await,
        0
    );

    let fields = [
        ("signer_name", "Ada <script>alert(1)</script> Buyer"),
        ("signer_role", "COO"),
        ("approval_reference", "PO-7"),
        ("exclusions", "support-email"),
        ("residual_risks", "Manual support."),
    ];
    let answer = send(
        &app,
        post_form("/rooms/acme/draft", Some(&sponsor), &fields),
    )
    .await;
    assert_eq!(answer.location, "/rooms/acme/review");
    let review = send(&app, get_with("/rooms/acme/review", &sponsor)).await;
    assert_eq!(review.status, StatusCode::OK);
    assert!(review.body.contains("Managed private beta"));
    assert!(
        review.body.contains("Support email"),
        "the exclusion by title"
    );
    assert!(
        !review.body.contains("<script>alert(1)</script>"),
        "escaped"
    );
    let digest: String = review
        .body
        .split("review-digest")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .map(|text| text.chars().take_while(char::is_ascii_hexdigit).collect())
        .unwrap();
    assert_eq!(digest.len(), 64);

    let mut signed = fields.to_vec();
    signed.push(("readiness_digest", &digest));
    signed.push(("slug", "acme"));
    // From another site: refused before anything else.
    let mut cross = post_form("/api/rooms/acceptance", Some(&sponsor), &signed);
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&app, cross).await.status, StatusCode::FORBIDDEN);
    // Another sponsor cannot sign for Acme.
    let other = sign_in(&app, "sponsor@borealis.example").await;
    assert_eq!(
        send(
            &app,
            post_form("/api/rooms/acceptance", Some(&other), &signed)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM acceptance_records").await,
        0
    );

    let answer = send(
        &app,
        post_form("/api/rooms/acceptance", Some(&sponsor), &signed),
    )
    .await;
    assert!(
        answer
            .location
            .starts_with("/rooms/acme?done=Launch+acceptance+signed"),
        "{}",
        answer.location
    );
    let page = send(&app, get_with("/rooms/acme", &sponsor)).await;
    assert!(page.body.contains(r#"data-state="accepted""#));
    assert!(page.body.contains("✓ live"));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM acceptance_records WHERE exclusions = '{support-email}'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_api_signs_with_a_token_answers_the_stored_record_and_refuses_bad_input(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let (_, token) = tokens::create(&pool, "sponsor@acme.example", "ci")
        .await
        .unwrap();
    let (_, operator_token) = tokens::create(&pool, "ops@example.com", "ci")
        .await
        .unwrap();
    let uri = "/api/platform/launch-acceptance";
    let document: serde_json::Value =
        serde_json::from_str(&send(&app, api("GET", uri, Some(&token), None)).await.body).unwrap();
    assert_eq!(document["state"], "ready_for_acceptance");
    let digest = document["readiness_digest"].as_str().unwrap().to_owned();

    let good = serde_json::json!({
        "signer_name": "Ada Buyer",
        "signer_role": "COO",
        "approval_reference": "PO-9",
        "exclusions": ["support-email"],
        "residual_risks": "none",
        "readiness_digest": digest,
    });
    // Bad input: malformed, wrongly typed, unknown fields, invalid values, wrong role.
    let cases = [
        (Some(&token), "{not json".to_owned(), StatusCode::BAD_REQUEST),
        (Some(&token), r#"{"signer_name": 5}"#.to_owned(), StatusCode::BAD_REQUEST),
        (Some(&token), r#"{"signer_name":"a","signer_role":"b","approval_reference":"c","readiness_digest":"d","admin":true}"#.to_owned(), StatusCode::BAD_REQUEST),
        (Some(&token), serde_json::json!({"signer_name": "x\u{1}", "signer_role": "", "approval_reference": "r", "exclusions": ["stripe-self-serve-billing"], "readiness_digest": digest}).to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        (Some(&operator_token), good.to_string(), StatusCode::FORBIDDEN),
        (None, good.to_string(), StatusCode::UNAUTHORIZED),
    ];
    for (token, body, status) in cases {
        let mut request = api("PATCH", uri, token.map(String::as_str), None);
        *request.body_mut() = Body::from(body.clone());
        request
            .headers_mut()
            .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let answer = send(&app, request).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            let error: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            let fields: Vec<&str> = error["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, vec!["signer_name", "signer_role", "exclusions"]);
        }
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM acceptance_records").await,
        0
    );

    let answer = send(&app, api("PATCH", uri, Some(&token), Some(good))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let stored: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(stored["record"]["seq"], 1);
    assert_eq!(stored["record"]["exclusions"][0], "support-email");
    assert_eq!(stored["record"]["digest"].as_str().unwrap().len(), 64);

    let revoke = serde_json::json!({"revoke": {"signer_name": "Ada", "signer_role": "COO", "reason": "withdrawn"}});
    let answer = send(&app, api("PATCH", uri, Some(&token), Some(revoke))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let document: serde_json::Value =
        serde_json::from_str(&send(&app, api("GET", uri, Some(&token), None)).await.body).unwrap();
    assert_eq!(document["state"], "revoked");
    assert_eq!(document["history"].as_array().unwrap().len(), 2);
    assert!(document["current"].is_null());

    // An operator's own token records proof runs; a sponsor's does not.
    let run = serde_json::json!({"status": "passed", "actor": "ci"});
    let runs = "/api/proofs/authenticated-access-rls/runs";
    let answer = send(
        &app,
        api("POST", runs, Some(&operator_token), Some(run.clone())),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let answer = send(&app, api("POST", runs, Some(&token), Some(run))).await;
    assert_ne!(answer.status, StatusCode::CREATED);

    // A revoked token stops working at once.
    let (id, spare) = tokens::create(&pool, "sponsor@acme.example", "spare")
        .await
        .unwrap();
    tokens::revoke(&pool, id).await.unwrap();
    assert_eq!(
        send(&app, api("GET", uri, Some(&spare), None)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_dossier_downloads_as_one_file_whose_manifest_verifies(pool: PgPool) {
    let test_app = crate::common::test_app(&pool, None, SessionSettings::default()).await;
    let key = test_app.state.log.key().verifier_key().to_owned();
    let app = test_app.router;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let (_, token) = tokens::create(&pool, "sponsor@acme.example", "ci")
        .await
        .unwrap();
    let (_, denied) = tokens::create(&pool, "sponsor@borealis.example", "ci")
        .await
        .unwrap();
    let uri = "/api/platform/launch-acceptance";
    let document: serde_json::Value =
        serde_json::from_str(&send(&app, api("GET", uri, Some(&token), None)).await.body).unwrap();
    let signature = serde_json::json!({
        "signer_name": "Ada <script>alert(1)</script>",
        "signer_role": "COO",
        "approval_reference": "PO-9",
        "readiness_digest": document["readiness_digest"],
    });
    assert_eq!(
        send(&app, api("PATCH", uri, Some(&token), Some(signature)))
            .await
            .status,
        StatusCode::OK
    );

    let mut request = api(
        "GET",
        "/api/platform/launch-dossier?download=1",
        Some(&token),
        None,
    );
    request
        .headers_mut()
        .insert(header::ACCEPT, "application/json".parse().unwrap());
    let response = tower::ServiceExt::oneshot(app.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"launch-dossier-acme-"),
        "{disposition}"
    );
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let dossier: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(dossier["format"], "clearance.dossier/1");
    for part in [
        "register",
        "launch_room",
        "evidence",
        "proof_runs",
        "acceptance_chain",
    ] {
        assert!(dossier["parts"].get(part).is_some(), "{part}");
        assert_eq!(dossier["manifest"][part].as_str().unwrap().len(), 64);
    }
    assert_eq!(
        dossier["parts"]["acceptance_chain"]["verification"]["acceptance"]["intact"],
        true
    );
    assert_eq!(
        dossier["parts"]["launch_room"]["status"]["state"],
        "accepted"
    );
    assert!(
        !String::from_utf8_lossy(&body).contains("<script>"),
        "signer names come out escaped in the JSON"
    );

    // The command checks the downloaded file; one changed byte is caught.
    let dir = std::env::temp_dir().join(format!("dossier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dossier.json");
    std::fs::write(&file, &body).unwrap();
    let (report, intact) = server::commands::dossier_verify(&file, None).unwrap();
    assert!(intact, "{report}");
    assert!(report.contains("ok       acceptance_chain"));
    assert!(
        report.contains("not checked: give the log's key"),
        "{report}"
    );
    // With the log's key: the signature, every receipt and both chains.
    let (report, intact) = server::commands::dossier_verify(&file, Some(&key)).unwrap();
    assert!(intact, "{report}");
    assert!(
        report.contains("ok       signature: issued by clearance.test/log for acme"),
        "{report}"
    );
    assert!(report.contains("ok       receipt of record 1"), "{report}");
    assert!(report.contains("ok       acceptance chain: "), "{report}");
    // Another key's verdict: not issued by this log.
    let other = crate::common::test_log_key().verifier_key().to_owned();
    let (report, intact) = server::commands::dossier_verify(&file, Some(&other)).unwrap();
    assert!(!intact, "{report}");
    assert!(report.contains("BROKEN   signature: "), "{report}");
    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("PO-9", "PO-8");
    std::fs::write(&file, tampered).unwrap();
    let (report, intact) = server::commands::dossier_verify(&file, Some(&key)).unwrap();
    assert!(!intact);
    assert!(report.contains("ALTERED  acceptance_chain"), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();

    // Tenant-scoped like everything else.
    let answer = send(
        &app,
        api(
            "GET",
            "/api/platform/launch-dossier?tenant=acme",
            Some(&denied),
            None,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        send(&app, api("GET", "/api/platform/launch-dossier", None, None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cross_site_patch_carrying_a_session_cookie_is_refused_and_stores_nothing(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let sponsor = sign_in(&app, "sponsor@acme.example").await;
    let uri = "/api/platform/launch-acceptance";
    let document: serde_json::Value = serde_json::from_str(
        &send(
            &app,
            Request::get(uri)
                .header(header::COOKIE, &sponsor)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .body,
    )
    .unwrap();
    let signature = serde_json::json!({
        "signer_name": "Ada Buyer",
        "signer_role": "COO",
        "approval_reference": "PO-9",
        "readiness_digest": document["readiness_digest"],
    })
    .to_string();
    let patch = |site: &[(&str, &str)]| {
        let mut request = Request::patch(uri)
            .header(header::COOKIE, &sponsor)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::HOST, "clearance.example");
        for (name, value) in site {
            request = request.header(*name, *value);
        }
        request.body(Body::from(signature.clone())).unwrap()
    };

    // What the browser says about another site: Fetch metadata, or failing that
    // an Origin that is not this host.
    for site in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "https://attacker.example")][..],
        &[("origin", "null")][..],
    ] {
        let answer = send(&app, patch(site)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{site:?}");
        assert!(answer.body.contains("cross-site"), "{}", answer.body);
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM acceptance_records").await,
        0,
        "nothing was signed"
    );

    // The same request from this site is signed: the refusal was the site alone.
    let answer = send(&app, patch(&[("sec-fetch-site", "same-origin")])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM acceptance_records").await,
        1
    );
}

async fn room_state(app: &axum::Router, cookie: &str) -> String {
    let page = send(app, get_with("/rooms/acme", cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.body
        .split(r#"data-testid="room-state" data-state=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned()
}

async fn chains_intact(pool: &PgPool) -> bool {
    server::rooms::verify::verify_all(pool)
        .await
        .unwrap()
        .iter()
        .all(|report| report.result.is_ok())
}

#[sqlx::test(migrations = "../migrations")]
async fn an_operator_detaches_evidence_through_the_form_and_the_room_needs_it_again(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let operator = sign_in(&app, "ops@example.com").await;
    let owner = sign_in(&app, "owner@example.com").await;
    let sponsor = sign_in(&app, "sponsor@acme.example").await;
    assert_eq!(room_state(&app, &operator).await, "ready_for_acceptance");
    let changes = count(&pool, "SELECT count(*) FROM evidence_changes").await;

    let item = crate::common::register()
        .gate("order-form-scope")
        .unwrap()
        .items[0]
        .clone();
    let detach = [
        ("slug", "acme"),
        ("action", "detach"),
        ("gate_id", "order-form-scope"),
        ("item", item.as_str()),
    ];
    // Owners and sponsors read the room but change no evidence.
    for cookie in [&owner, &sponsor] {
        let refused = send(
            &app,
            post_form("/api/rooms/evidence", Some(cookie), &detach),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM evidence_changes").await,
        changes
    );

    let answer = send(
        &app,
        post_form("/api/rooms/evidence", Some(&operator), &detach),
    )
    .await;
    let done = form_urlencoded::Serializer::new(String::new())
        .append_pair("done", &format!("Detached the evidence from “{item}”."))
        .finish();
    assert_eq!(
        answer.location,
        format!("/rooms/acme?{done}#gate-order-form-scope")
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM evidence_changes WHERE action = 'detached'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM evidence_changes").await,
        changes + 1,
        "a detachment is a new record, not a deletion"
    );
    assert_eq!(room_state(&app, &operator).await, "setup");
    assert!(chains_intact(&pool).await);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM access_events WHERE action = 'evidence_detached'"
        )
        .await,
        1
    );

    // Detaching what is not attached names the problem and records nothing.
    let again = send(
        &app,
        post_form("/api/rooms/evidence", Some(&operator), &detach),
    )
    .await;
    assert!(
        again.location.starts_with("/rooms/acme?error="),
        "{}",
        again.location
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM evidence_changes").await,
        changes + 1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sponsor_revokes_through_the_form_and_signs_again_after(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    let sponsor = sign_in(&app, "sponsor@acme.example").await;
    let other = sign_in(&app, "sponsor@borealis.example").await;
    let digest = || async {
        let document: serde_json::Value = serde_json::from_str(
            &send(&app, get_with("/api/platform/launch-acceptance", &sponsor))
                .await
                .body,
        )
        .unwrap();
        document["readiness_digest"].as_str().unwrap().to_owned()
    };
    let sign = |digest: String| {
        post_form(
            "/api/rooms/acceptance",
            Some(&sponsor),
            &[
                ("slug", "acme"),
                ("signer_name", "Ada Buyer"),
                ("signer_role", "COO"),
                ("approval_reference", "PO-7"),
                ("residual_risks", "Manual support."),
                ("readiness_digest", &digest),
            ],
        )
    };
    let revocation = [
        ("slug", "acme"),
        ("signer_name", "Ada Buyer"),
        ("signer_role", "COO"),
        ("reason", "The order form was withdrawn."),
    ];

    let signed = send(&app, sign(digest().await)).await;
    assert!(
        signed
            .location
            .starts_with("/rooms/acme?done=Launch+acceptance+signed"),
        "{}",
        signed.location
    );
    assert_eq!(room_state(&app, &sponsor).await, "accepted");

    // Another tenant's sponsor cannot revoke Acme's acceptance; a revocation
    // without a reason names the field; neither stores anything.
    let refused = send(
        &app,
        post_form("/api/rooms/revocation", Some(&other), &revocation),
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let missing = send(
        &app,
        post_form(
            "/api/rooms/revocation",
            Some(&sponsor),
            &[
                ("slug", "acme"),
                ("signer_name", "Ada Buyer"),
                ("signer_role", "COO"),
            ],
        ),
    )
    .await;
    assert!(
        missing.location.starts_with("/rooms/acme?error=reason"),
        "{}",
        missing.location
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM acceptance_records").await,
        1
    );

    let revoked = send(
        &app,
        post_form("/api/rooms/revocation", Some(&sponsor), &revocation),
    )
    .await;
    assert_eq!(
        revoked.location,
        "/rooms/acme?done=Launch+acceptance+revoked."
    );
    assert_eq!(room_state(&app, &sponsor).await, "revoked");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM acceptance_records WHERE kind = 'revoked'"
        )
        .await,
        1
    );

    let again = send(&app, sign(digest().await)).await;
    assert!(
        again
            .location
            .starts_with("/rooms/acme?done=Launch+acceptance+signed"),
        "{}",
        again.location
    );
    assert_eq!(room_state(&app, &sponsor).await, "accepted");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM acceptance_records WHERE seq = 3 AND kind = 'accepted'"
        )
        .await,
        1,
        "signed again as a third record"
    );
    assert!(chains_intact(&pool).await);
}
