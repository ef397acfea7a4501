//! HTTP tests of the real router, server-side rendered against a real database.

use axum::body::Body;
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

use server::auth::session::SessionSettings;

async fn app(pool: PgPool) -> axum::Router {
    crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router
}

async fn get(app: axum::Router, uri: &str) -> (http::StatusCode, String) {
    let response = app
        .oneshot(http::Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[sqlx::test(migrations = "../migrations")]
async fn the_register_page_is_rendered_whole_on_the_server(pool: PgPool) {
    let (status, html) = get(app(pool).await, "/").await;
    assert_eq!(status, 200);
    for expected in [
        "<dd>degraded</dd>",
        "<dd>not_ready</dd>",
        "<dd>7</dd>",
        "<dd>6</dd>",
        "Managed private beta: conditional. Invoice-led paid beta: conditional. Self-serve paid launch: blocked. Enterprise expansion: blocked.",
        "THESMIOS_SMOKE_URL=https://www.thesmios.com npm run check:readiness -- --strict",
        "/api/platform/launch-dossier?download=1",
        "Public-safe by design.",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert_eq!(html.matches(r#"data-testid="blocker-row""#).count(), 7);
    assert_eq!(html.matches(r#"data-testid="evidence-gate""#).count(), 6);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_scope_query_filters_rows_on_the_server(pool: PgPool) {
    let (status, html) = get(app(pool).await, "/?scope=enterprise").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"data-testid="blocker-row""#).count(), 4);
    assert!(!html.contains(r#"data-scope="private-beta""#));
}

#[sqlx::test(migrations = "../migrations")]
async fn leptos_scripts_end_the_body_instead_of_following_the_document(pool: PgPool) {
    let app = app(pool).await;
    for uri in ["/", "/login", "/admin", "/no-such-page"] {
        let (_, html) = get(app.clone(), uri).await;
        assert!(
            html.ends_with("</body></html>"),
            "{uri} ends with {:?}",
            &html[html.len().saturating_sub(80)..]
        );
        assert_eq!(html.matches("</body></html>").count(), 1, "{uri}");
        let scripts = html
            .find("__RESOLVED_RESOURCES")
            .expect("Leptos's hydration data");
        assert!(scripts < html.find("</body>").unwrap(), "{uri}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn times_are_given_to_the_second_as_html_allows(pool: PgPool) {
    let (_, html) = get(app(pool).await, "/").await;
    let values: Vec<&str> = html
        .split(r#"datetime=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(!values.is_empty());
    for value in values {
        // 2026-05-01T12:00:00Z: no fraction (HTML allows at most three digits).
        assert_eq!(value.len(), 20, "{value}");
        assert!(
            value.ends_with('Z') && value.as_bytes()[10] == b'T',
            "{value}"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unknown_path_is_a_404(pool: PgPool) {
    let (status, html) = get(app(pool).await, "/no-such-page").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
}

#[sqlx::test(migrations = "../migrations")]
async fn combined_filters_render_the_same_rows_on_the_server(pool: PgPool) {
    let app = app(pool).await;
    let (status, html) = get(app.clone(), "/?scope=enterprise&q=config&state=all").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"data-testid="blocker-row""#).count(), 2);
    assert!(html.contains(r#"data-query="scope=enterprise&amp;state=all&amp;q=config""#));
    assert!(
        html.contains(r#"value="config""#),
        "the search box shows the text"
    );
    let (_, html) = get(
        app.clone(),
        "/?motion=managed-private-beta&dependency=missing",
    )
    .await;
    assert_eq!(html.matches(r#"data-testid="blocker-row""#).count(), 2);
    let (_, html) = get(app, "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(html.matches(r#"data-testid="blocker-row""#).count(), 0);
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "search text is escaped"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_blocker_and_motion_views_render_on_the_server(pool: PgPool) {
    let app = app(pool).await;
    let (status, html) = get(app.clone(), "/blockers/stripe-self-serve-billing").await;
    assert_eq!(status, 200);
    for expected in [
        "Required for public self-serve checkout; invoice-only private beta can run without it.",
        r#"STRIPE_WEBHOOK_SECRET=<var title="Fill in this value" class="placeholder">&lt;secret&gt;</var>"#,
        "Do not enable self-serve checkout; keep paid beta invoice-only or order-form contracted.",
        "No run recorded yet.",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert_eq!(html.matches(r#"data-testid="dependency""#).count(), 4);

    let (status, html) = get(app.clone(), "/motions/self-serve-paid-launch").await;
    assert_eq!(status, 200);
    assert!(html.contains("configure STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_REPORT, STRIPE_PRICE_MONITORING and pass the Stripe self-serve billing proof"));

    assert_eq!(get(app.clone(), "/blockers/no-such-blocker").await.0, 404);
    assert_eq!(get(app, "/motions/no-such-motion").await.0, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn public_pages_come_from_memory_until_the_live_state_changes(pool: PgPool) {
    use server::page_cache::CACHE_HEADER;

    let app = crate::common::test_app(
        &pool,
        Some("cache-test-token-0123456789abcdef0123456789"),
        SessionSettings::default(),
    )
    .await;
    let fetch = |uri: &'static str, cookie: Option<&'static str>| {
        let router = app.router.clone();
        async move {
            let mut request = http::Request::get(uri);
            if let Some(cookie) = cookie {
                request = request.header(http::header::COOKIE, cookie);
            }
            let response = router
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let cache = response
                .headers()
                .get(CACHE_HEADER)
                .map(|value| value.to_str().unwrap().to_owned());
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (cache, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let (cache, first) = fetch("/", None).await;
    assert_eq!(cache.as_deref(), Some("miss"));
    let (cache, again) = fetch("/", None).await;
    assert_eq!(cache.as_deref(), Some("hit"));
    // The same page, but for the nonce each response gets of its own.
    let nonce = |page: &str| {
        let start = page.find("nonce=\"").unwrap() + "nonce=\"".len();
        page[start..].split('"').next().unwrap().to_owned()
    };
    assert_ne!(nonce(&again), nonce(&first));
    assert_eq!(
        again.replace(&nonce(&again), "NONCE"),
        first.replace(&nonce(&first), "NONCE")
    );
    // Each URI is its own page; a signed-in request is always rendered.
    assert_eq!(
        fetch("/?scope=enterprise", None).await.0.as_deref(),
        Some("miss")
    );
    assert_eq!(
        fetch("/", Some("theme=dark; clearance_session=abc"))
            .await
            .0,
        None
    );
    assert_eq!(fetch("/login", None).await.0, None);

    // A readiness change (a passing proof run) is a new live state: rendered anew.
    let before_runs = first.matches("no passing run").count();
    let response = app
        .router
        .clone()
        .oneshot(
            http::Request::post("/api/proofs/support-status-notification/runs")
                .header("content-type", "application/json")
                .header(
                    "authorization",
                    "Bearer cache-test-token-0123456789abcdef0123456789",
                )
                .body(Body::from(
                    r#"{"status":"passed","actor":"ci","excerpt":"ok"}"#,
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    app.monitor.refresh().await;
    let (cache, after) = fetch("/", None).await;
    assert_eq!(cache.as_deref(), Some("miss"));
    assert!(
        after.matches("no passing run").count() < before_runs,
        "the page still shows the old proof state"
    );
    assert_eq!(fetch("/", None).await.0.as_deref(), Some("hit"));
}

/// The built front end keeps its file names across builds, so a browser must
/// revalidate it (and then gets a bodiless 304) rather than use an old copy.
#[sqlx::test(migrations = "../migrations")]
async fn the_front_end_is_revalidated_on_every_load(pool: PgPool) {
    let site = std::env::temp_dir().join(format!("clearance-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/clearance.js"), "export default 1;\n").unwrap();
    let options = leptos::prelude::LeptosOptions::builder()
        .output_name("clearance")
        .site_root(site.to_string_lossy().into_owned())
        .build();
    let app =
        crate::common::test_app_with_options(&pool, None, SessionSettings::default(), options)
            .await
            .router;

    let first = app
        .clone()
        .oneshot(
            http::Request::get("/pkg/clearance.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()[http::header::CACHE_CONTROL], "no-cache");
    let modified = first.headers()[http::header::LAST_MODIFIED].clone();

    let again = app
        .clone()
        .oneshot(
            http::Request::get("/pkg/clearance.js")
                .header(http::header::IF_MODIFIED_SINCE, modified)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .is_empty());

    // Pages are not touched: they are rendered per request and carry no validator.
    let page = app
        .oneshot(http::Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(page.headers().get(http::header::CACHE_CONTROL).is_none());
    std::fs::remove_dir_all(&site).unwrap();
}
