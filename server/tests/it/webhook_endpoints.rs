//! Managing webhook endpoints over HTTP: the JSON API and the pages' form posts,
//! each role against each, refused input, the private-destination setting, the
//! signing secret shown only when made or rotated, and redelivery.

use std::sync::Arc;

use axum::body::Body;
use http::{header, Request, StatusCode};
use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use sqlx::PgPool;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use server::startup::{self, Settings};
use server::webhooks::WebhookSettings;

use crate::common::{
    cookie_pair, get_with, post_form, send, sign_in_request, world, Answer, PASSWORD,
};

const HOOK: &str = "https://hooks.example.com/clearance";

/// The test app, with private destinations allowed or not.
async fn app(pool: &PgPool, allow_private: bool) -> axum::Router {
    let leptos_options = LeptosOptions::builder().output_name("clearance").build();
    let register =
        Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register"));
    startup::build(
        crate::common::serving_pool(pool),
        Settings {
            page_cache_entries: 0,
            webhooks: WebhookSettings {
                allow_private,
                ..Default::default()
            },
            ..crate::common::settings(register, leptos_options)
        },
    )
    .await
    .router
}

/// Who calls: session cookies and bearer tokens of each role.
struct Callers {
    operator: String,
    owner: String,
    sponsor: String,
    operator_token: String,
    owner_token: String,
    sponsor_token: String,
    tenant_b: i64,
}

async fn callers(app: &axum::Router, pool: &PgPool) -> Callers {
    let world = world(pool).await;
    let mut cookies = Vec::new();
    let mut tokens = Vec::new();
    for email in [
        "ops@example.com",
        "owner@example.com",
        "sponsor@acme.example",
    ] {
        let answer = send(app, sign_in_request(email, PASSWORD, "/")).await;
        cookies.push(cookie_pair(&answer.cookie.unwrap()));
        tokens.push(
            server::auth::tokens::create(pool, email, "test")
                .await
                .unwrap()
                .1,
        );
    }
    let [operator, owner, sponsor] = <[String; 3]>::try_from(cookies).unwrap();
    let [operator_token, owner_token, sponsor_token] = <[String; 3]>::try_from(tokens).unwrap();
    Callers {
        operator,
        owner,
        sponsor,
        operator_token,
        owner_token,
        sponsor_token,
        tenant_b: world.b,
    }
}

fn api(method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
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

fn json_of(answer: &Answer) -> Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|_| panic!("JSON: {}", answer.body))
}

async fn endpoints_stored(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The `Set-Cookie` carrying a new secret to the page, as a `name=value` pair.
fn secret_cookie(answer: &Answer) -> String {
    let cookie = answer.cookie.clone().unwrap_or_default();
    assert!(
        cookie.starts_with("clearance_new_webhook_secret=")
            && cookie.contains("HttpOnly")
            && cookie.contains("Path=/admin/webhooks"),
        "{cookie}"
    );
    cookie_pair(&cookie)
}

fn shown_secret(page: &str) -> Option<String> {
    page.split(r#"data-testid="webhook-secret">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(str::to_owned)
}

#[sqlx::test(migrations = "../migrations")]
async fn operators_manage_endpoints_over_the_api_and_the_secret_is_answered_only_twice(
    pool: PgPool,
) {
    let app = app(&pool, false).await;
    let who = callers(&app, &pool).await;
    let token = Some(who.operator_token.as_str());
    let motion = crate::common::register().motions[0].id.clone();

    let created = send(
        &app,
        api(
            "POST",
            "/api/webhooks",
            token,
            Some(json!({
                "url": HOOK,
                "description": "Ops channel",
                "event_types": ["proof.failed", "acceptance.signed", "proof.failed"],
                "motions": [motion],
                "tenants": ["acme", who.tenant_b],
                "format": "slack",
            })),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = json_of(&created);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let endpoint = &created["endpoint"];
    let id = endpoint["id"].as_i64().unwrap();
    assert_eq!(endpoint["url"], HOOK);
    assert_eq!(
        endpoint["event_types"],
        json!(["proof.failed", "acceptance.signed"])
    );
    assert_eq!(endpoint["motions"], json!([motion]));
    assert_eq!(endpoint["tenant_ids"].as_array().unwrap().len(), 2);
    assert_eq!(endpoint["format"], "slack");
    assert_eq!(endpoint["enabled"], true);
    assert_eq!(endpoint["created_by"], "ops@example.com");
    assert!(endpoint.get("secret").is_none());

    let listed = send(&app, api("GET", "/api/webhooks", token, None)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(json_of(&listed)[0]["id"], id);
    let one = send(
        &app,
        api("GET", &format!("/api/webhooks/{id}"), token, None),
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(json_of(&one)["description"], "Ops channel");

    let updated = send(
        &app,
        api(
            "PUT",
            &format!("/api/webhooks/{id}"),
            token,
            Some(json!({"url": "https://hooks.example.com/other", "enabled": false})),
        ),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let updated = json_of(&updated);
    assert_eq!(updated["url"], "https://hooks.example.com/other");
    assert_eq!(updated["enabled"], false);
    assert_eq!(
        updated["event_types"],
        json!([]),
        "PUT replaces every field"
    );
    assert_eq!(updated["format"], "standard");

    let rotated = send(
        &app,
        api("POST", &format!("/api/webhooks/{id}/rotate"), token, None),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let rotated = json_of(&rotated);
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(rotated["previous_secret_expires_at"].clone()).unwrap();
    let overlap = until - chrono::Utc::now();
    assert!(
        overlap > chrono::Duration::hours(23) && overlap <= chrono::Duration::hours(24),
        "{overlap}"
    );

    // Neither secret is ever answered again: not by the API, not on a page.
    for answer in [
        send(&app, api("GET", "/api/webhooks", token, None)).await,
        send(
            &app,
            api("GET", &format!("/api/webhooks/{id}"), token, None),
        )
        .await,
        send(&app, get_with("/admin/webhooks", &who.operator)).await,
        send(
            &app,
            get_with(&format!("/admin/webhooks/{id}"), &who.operator),
        )
        .await,
    ] {
        assert_eq!(answer.status, StatusCode::OK);
        assert!(!answer.body.contains(&secret) && !answer.body.contains(&new_secret));
        assert!(!answer.body.contains("whsec_"));
    }

    let catalogue = send(&app, api("GET", "/api/event-types", token, None)).await;
    assert_eq!(catalogue.status, StatusCode::OK);
    let catalogue = json_of(&catalogue);
    assert_eq!(catalogue.as_array().unwrap().len(), 13);
    assert!(catalogue.as_array().unwrap().contains(&json!({
        "name": "acceptance.signed",
        "label": "A launch acceptance was signed",
        "tenant_event": true,
    })));

    let deleted = send(
        &app,
        api("DELETE", &format!("/api/webhooks/{id}"), token, None),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = send(
        &app,
        api("GET", &format!("/api/webhooks/{id}"), token, None),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(json_of(&gone)["error"], "no such webhook endpoint");
    assert_eq!(endpoints_stored(&pool).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_operators_manage_webhooks(pool: PgPool) {
    let app = app(&pool, false).await;
    let who = callers(&app, &pool).await;
    let body = json!({"url": HOOK});

    for token in [&who.owner_token, &who.sponsor_token] {
        for (method, uri) in [
            ("GET", "/api/webhooks"),
            ("POST", "/api/webhooks"),
            ("GET", "/api/webhooks/1"),
            ("PUT", "/api/webhooks/1"),
            ("DELETE", "/api/webhooks/1"),
            ("POST", "/api/webhooks/1/rotate"),
            ("GET", "/api/webhooks/1/deliveries"),
            ("POST", "/api/webhooks/1/deliveries/1/redeliver"),
            ("GET", "/api/event-types"),
        ] {
            let answer = send(&app, api(method, uri, Some(token), Some(body.clone()))).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {uri}");
            assert_eq!(json_of(&answer)["error"], "only operators manage webhooks");
        }
    }
    let public = send(&app, api("POST", "/api/webhooks", None, Some(body.clone()))).await;
    assert_eq!(public.status, StatusCode::UNAUTHORIZED);
    let public = send(&app, api("GET", "/api/webhooks", None, None)).await;
    assert_eq!(public.status, StatusCode::UNAUTHORIZED);
    let wrong = send(&app, api("GET", "/api/webhooks", Some("nope"), None)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // The pages: owners and sponsors 403, the public sent to sign in.
    for cookie in [&who.owner, &who.sponsor] {
        for uri in ["/admin/webhooks", "/admin/webhooks/1"] {
            let page = send(&app, get_with(uri, cookie)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{uri}");
            assert!(page.body.contains("your account may not see this page"));
        }
        let post = send(
            &app,
            post_form("/admin/webhooks", Some(cookie), &[("url", HOOK)]),
        )
        .await;
        assert_eq!(post.status, StatusCode::FORBIDDEN);
        assert!(post.body.contains("only operators manage webhooks"));
    }
    let page = send(
        &app,
        Request::get("/admin/webhooks").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.location, "/login?next=%2Fadmin%2Fwebhooks");
    let post = send(&app, post_form("/admin/webhooks", None, &[("url", HOOK)])).await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert_eq!(
        endpoints_stored(&pool).await,
        0,
        "a refused caller stores nothing"
    );

    // The administration page links operators (only) to the webhooks.
    let admin = send(&app, get_with("/admin", &who.operator)).await;
    assert!(admin.body.contains(r#"href="/admin/webhooks""#));
    let admin = send(&app, get_with("/admin", &who.owner)).await;
    assert!(!admin.body.contains(r#"href="/admin/webhooks""#));
}

#[sqlx::test(migrations = "../migrations")]
async fn refused_input_is_answered_clearly_and_stores_nothing(pool: PgPool) {
    let app = app(&pool, false).await;
    let who = callers(&app, &pool).await;
    let token = Some(who.operator_token.as_str());
    for (body, field, says) in [
        (
            json!({"url": HOOK, "event_types": ["proof.exploded"]}),
            "event_types",
            "unknown event type \"proof.exploded\"",
        ),
        (
            json!({"url": HOOK, "motions": ["moonshot"]}),
            "motions",
            "no launch motion \"moonshot\" in the register",
        ),
        (
            json!({"url": HOOK, "tenants": ["nobody"]}),
            "tenants",
            "no tenant \"nobody\"",
        ),
        (
            json!({"url": HOOK, "tenants": [987654]}),
            "tenants",
            "no tenant with id 987654",
        ),
        (json!({"url": "not a url"}), "url", "not a URL"),
        (
            json!({"url": "ftp://hooks.example.com/"}),
            "url",
            "only http and https URLs",
        ),
        (
            json!({"url": "http://127.0.0.1:9000/hook"}),
            "url",
            "127.0.0.1 is a loopback, private or otherwise non-public address; set CLEARANCE_WEBHOOK_ALLOW_PRIVATE=true to allow it",
        ),
        (
            json!({"url": HOOK, "format": "teams"}),
            "format",
            "choose standard or slack",
        ),
        (
            json!({"url": HOOK, "description": "x".repeat(501)}),
            "description",
            "500 characters",
        ),
    ] {
        let answer = send(&app, api("POST", "/api/webhooks", token, Some(body.clone()))).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let answer = json_of(&answer);
        assert_eq!(answer["field"], field, "{body}");
        assert!(
            answer["error"].as_str().unwrap().contains(says),
            "{body}: {}",
            answer["error"]
        );
    }
    for body in [
        "{not json",
        r#"{"url": "https://hooks.example.com/", "secret": "mine"}"#,
        r#"{"description": "no url"}"#,
    ] {
        let answer = send(
            &app,
            Request::post("/api/webhooks")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", who.operator_token),
                )
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(!answer.body.contains("mine"), "nothing sent is echoed");
    }

    // The page's form: back to the page with the reason, nothing stored.
    let answer = send(
        &app,
        post_form(
            "/admin/webhooks",
            Some(&who.operator),
            &[
                ("url", "http://127.0.0.1/hook"),
                ("event_type", "proof.exploded"),
                ("enabled", "on"),
            ],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer.location.starts_with("/admin/webhooks?error=url"),
        "{}",
        answer.location
    );
    let page = send(&app, get_with(&answer.location, &who.operator)).await;
    assert!(page
        .body
        .contains("CLEARANCE_WEBHOOK_ALLOW_PRIVATE=true to allow it"));
    assert!(page.body.contains("unknown event type"));
    assert_eq!(endpoints_stored(&pool).await, 0);

    // Unknown ids are 404, on the API and the pages alike.
    for (method, uri) in [
        ("GET", "/api/webhooks/999"),
        ("GET", "/api/webhooks/abc"),
        ("POST", "/api/webhooks/999/rotate"),
        ("GET", "/api/webhooks/999/deliveries"),
        ("POST", "/api/webhooks/999/deliveries/1/redeliver"),
    ] {
        let answer = send(&app, api(method, uri, token, None)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {uri}");
    }
    let page = send(&app, get_with("/admin/webhooks/999", &who.operator)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let post = send(
        &app,
        post_form("/admin/webhooks/999/rotate", Some(&who.operator), &[]),
    )
    .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert!(post.body.contains("Back to webhooks"));
}

#[sqlx::test(migrations = "../migrations")]
async fn private_destinations_are_accepted_when_the_setting_allows_them(pool: PgPool) {
    let app = app(&pool, true).await;
    let who = callers(&app, &pool).await;
    let created = send(
        &app,
        api(
            "POST",
            "/api/webhooks",
            Some(&who.operator_token),
            Some(json!({"url": "http://127.0.0.1:9000/hook"})),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        json_of(&created)["endpoint"]["url"],
        "http://127.0.0.1:9000/hook"
    );
    let page = send(&app, get_with("/admin/webhooks", &who.operator)).await;
    assert!(page
        .body
        .contains("Loopback and private addresses are allowed"));
}

#[sqlx::test(migrations = "../migrations")]
async fn operators_manage_endpoints_with_the_page_forms_and_see_each_secret_once(pool: PgPool) {
    let app = app(&pool, false).await;
    let who = callers(&app, &pool).await;
    let page = send(&app, get_with("/admin/webhooks", &who.operator)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No webhook endpoint yet."));
    assert!(
        page.body.contains("A launch acceptance was signed"),
        "event types by label"
    );

    let created = send(
        &app,
        post_form(
            "/admin/webhooks",
            Some(&who.operator),
            &[
                ("url", HOOK),
                ("description", "Ops channel"),
                ("event_type", "proof.failed"),
                ("event_type", "blocker.live"),
                ("tenant", "acme"),
                ("format", "slack"),
                ("enabled", "on"),
            ],
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    assert!(
        created.location.starts_with("/admin/webhooks?done=Created")
            && created.location.ends_with("#new-secret"),
        "{}",
        created.location
    );
    let carried = secret_cookie(&created);
    // The server keeps only a digest between the post and the page.
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT encode(data, 'escape') FROM tower_sessions.session")
            .fetch_all(&pool)
            .await
            .unwrap();
    let cookies = format!("{}; {carried}", who.operator);
    let page = send(&app, get_with("/admin/webhooks", &cookies)).await;
    let secret = shown_secret(&page.body).expect("the secret is shown once");
    assert!(secret.starts_with("whsec_"));
    assert!(page.body.contains("shown only this once"));
    assert!(page.body.contains(HOOK) && page.body.contains("blocker.live, proof.failed"));
    assert!(stored.iter().all(|data| !data.contains(&secret)));
    let again = send(&app, get_with("/admin/webhooks", &cookies)).await;
    assert_eq!(shown_secret(&again.body), None, "only once");
    assert!(!again.body.contains(&secret));

    let id: i64 = sqlx::query_scalar("SELECT id FROM webhook_endpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    let detail = format!("/admin/webhooks/{id}");
    let edited = send(
        &app,
        post_form(
            &detail,
            Some(&who.operator),
            &[
                ("url", "https://hooks.example.com/v2"),
                ("format", "standard"),
            ],
        ),
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER);
    assert!(
        edited.location.starts_with(&format!("{detail}?done=")),
        "{}",
        edited.location
    );
    let page = send(&app, get_with(&detail, &who.operator)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("https://hooks.example.com/v2"));
    assert!(page.body.contains("No delivery yet."));
    let (enabled, types): (bool, Vec<String>) =
        sqlx::query_as("SELECT enabled, event_types FROM webhook_endpoints")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!enabled, "an unticked box disables");
    assert!(types.is_empty(), "no box ticked: every type");

    let toggled = send(
        &app,
        post_form(
            &format!("{detail}/enabled"),
            Some(&who.operator),
            &[("enabled", "true")],
        ),
    )
    .await;
    assert_eq!(toggled.status, StatusCode::SEE_OTHER);
    let enabled: bool = sqlx::query_scalar("SELECT enabled FROM webhook_endpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(enabled);

    let rotated = send(
        &app,
        post_form(&format!("{detail}/rotate"), Some(&who.operator), &[]),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER);
    assert!(rotated.location.starts_with(&detail) && rotated.location.ends_with("#new-secret"));
    let cookies = format!("{}; {}", who.operator, secret_cookie(&rotated));
    let page = send(&app, get_with(&detail, &cookies)).await;
    let new_secret = shown_secret(&page.body).expect("the new secret is shown once");
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(page.body.contains("Previous secret signs until"));
    let again = send(&app, get_with(&detail, &cookies)).await;
    assert!(!again.body.contains(&new_secret));

    let deleted = send(
        &app,
        post_form(&format!("{detail}/delete"), Some(&who.operator), &[]),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(deleted.location.starts_with("/admin/webhooks?done=Deleted"));
    assert_eq!(endpoints_stored(&pool).await, 0);

    let logged: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM access_events WHERE action LIKE 'webhook_%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        logged,
        [
            "webhook_created",
            "webhook_changed",
            "webhook_changed",
            "webhook_secret_rotated",
            "webhook_deleted"
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn redeliver_puts_a_failed_delivery_back_to_pending(pool: PgPool) {
    let app = app(&pool, false).await;
    let who = callers(&app, &pool).await;
    let token = Some(who.operator_token.as_str());
    let created = send(
        &app,
        api("POST", "/api/webhooks", token, Some(json!({"url": HOOK}))),
    )
    .await;
    let id = json_of(&created)["endpoint"]["id"].as_i64().unwrap();
    let mut tx = server::tenancy::begin(&pool, server::tenancy::Acting::System)
        .await
        .unwrap();
    let (event, event_id): (i64, String) = sqlx::query_as(
        "INSERT INTO events (type, occurred_at, path, data)
         VALUES ('proof.failed', now(), '/blockers/x', '{}') RETURNING id, event_id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let delivery: i64 = sqlx::query_scalar(
        "INSERT INTO deliveries (event_id, endpoint_id, status, attempts, last_attempt_at,
                                 last_error, response_code)
         VALUES ($1, $2, 'failed', 7, now(), 'the endpoint answered 500', 500) RETURNING id",
    )
    .bind(event)
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let listed = send(
        &app,
        api(
            "GET",
            &format!("/api/webhooks/{id}/deliveries"),
            token,
            None,
        ),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = json_of(&listed);
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["event_id"], event_id.as_str());
    assert_eq!(listed[0]["response_code"], 500);
    let page = send(
        &app,
        get_with(&format!("/admin/webhooks/{id}"), &who.operator),
    )
    .await;
    assert!(page.body.contains(&event_id) && page.body.contains("the endpoint answered 500"));
    assert!(page.body.contains(&format!(
        r#"action="/admin/webhooks/{id}/deliveries/{delivery}/redeliver""#
    )));

    let redelivered = send(
        &app,
        api(
            "POST",
            &format!("/api/webhooks/{id}/deliveries/{delivery}/redeliver"),
            token,
            None,
        ),
    )
    .await;
    assert_eq!(redelivered.status, StatusCode::OK, "{}", redelivered.body);
    assert_eq!(json_of(&redelivered)["status"], "pending");
    let (status, attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM deliveries WHERE id = $1")
            .bind(delivery)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), attempts),
        ("pending", 7),
        "attempts are kept"
    );

    // And through the page's button.
    sqlx::query("UPDATE deliveries SET status = 'failed' WHERE id = $1")
        .bind(delivery)
        .execute(&pool)
        .await
        .unwrap();
    let answer = send(
        &app,
        post_form(
            &format!("/admin/webhooks/{id}/deliveries/{delivery}/redeliver"),
            Some(&who.operator),
            &[],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer.location.contains("done=Queued"),
        "{}",
        answer.location
    );
    let status: String = sqlx::query_scalar("SELECT status FROM deliveries WHERE id = $1")
        .bind(delivery)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "pending");

    // A delivery of another endpoint is not this one's to redeliver.
    let other = send(
        &app,
        api(
            "POST",
            "/api/webhooks",
            token,
            Some(json!({"url": "https://hooks.example.com/other"})),
        ),
    )
    .await;
    let other = json_of(&other)["endpoint"]["id"].as_i64().unwrap();
    let answer = send(
        &app,
        api(
            "POST",
            &format!("/api/webhooks/{other}/deliveries/{delivery}/redeliver"),
            token,
            None,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}
