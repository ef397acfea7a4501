//! No open redirect: `next` after signing in, and where the sign-in page echoes
//! it, stays on this site however it is spelled.

use sqlx::PgPool;

use app::domain::access::Role;
use server::auth::session::SessionSettings;

use crate::common::{account, get_with, send, sign_in_request, PASSWORD};

/// Spellings of another site (or of nothing) that browsers or proxies would
/// turn into one: tabs and newlines the URL parser drops, backslashes it reads
/// as slashes, percent-encodings of both (once and twice), schemes.
const HOSTILE: &[&str] = &[
    "//evil.example",
    "///evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/x",
    "/%0a/x",
    "/\r\n/evil.example",
    "/\\x",
    "/\\/evil.example",
    "/%5C/evil.example",
    "/%2F/evil.example",
    "/%2F%2Fevil.example",
    "/%2509/evil.example",
    "/%252F/evil.example",
    "https:x",
    "https:evil.example",
    "http:evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " //evil.example",
];

#[sqlx::test(migrations = "../migrations")]
async fn signing_in_with_a_next_that_leaves_the_site_lands_on_the_home_page(pool: PgPool) {
    account(&pool, "olive@example.com", Role::Operator, None).await;
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    for next in HOSTILE {
        // The throttles start over each time, so they never answer here.
        sqlx::query("DELETE FROM throttle_buckets")
            .execute(&pool)
            .await
            .unwrap();
        let answer = send(&app, sign_in_request("olive@example.com", PASSWORD, next)).await;
        assert_eq!(answer.location, "/", "next = {next:?}");
        // A refused sign-in sends the visitor back to the form, `next` cleaned.
        let answer = send(&app, sign_in_request("olive@example.com", "wrong", next)).await;
        assert!(
            answer.location.starts_with("/login?error=invalid")
                && answer.location.ends_with("&next=%2F"),
            "next = {next:?}: {}",
            answer.location
        );
    }
    sqlx::query("DELETE FROM throttle_buckets")
        .execute(&pool)
        .await
        .unwrap();
    let answer = send(
        &app,
        sign_in_request("olive@example.com", PASSWORD, "/rooms/acme?tab=gates#top"),
    )
    .await;
    assert_eq!(
        answer.location, "/rooms/acme?tab=gates",
        "a local path is kept"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_sign_in_page_echoes_only_a_local_next(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    for next in HOSTILE {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let page = send(&app, get_with(&format!("/login?{query}"), "")).await;
        assert!(
            page.body
                .contains(r#"<input type="hidden" name="next" value="/">"#),
            "next = {next:?}"
        );
        assert!(!page.body.contains("evil.example"), "next = {next:?}");
    }
}
