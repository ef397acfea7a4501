//! The client's address behind proxies, throttles that a refused address cannot
//! turn against someone else's account, bounded throttle maps and access log
//! under a flood of refusals, capped event streams and a page cache that is
//! not an amplifier.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use app::domain::access::Role;
use futures::StreamExt;
use server::auth::accounts::{self, NewAccount};
use server::auth::audit::{self, Action, Event};
use server::auth::refusals::RefusalLog;
use server::auth::throttle::{Refused, SignInThrottle};
use server::edge::EdgeSettings;
use server::page_cache::{cache_key, CACHE_HEADER};

use crate::common::{send, serving_pool, sign_in_request, test_app_with_edge, TestApp};

const PASSWORD: &str = "correct horse battery staple";

/// `request` as if it came from a socket at `peer`.
fn from(peer: &str, mut request: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{peer}:40000")
        .parse()
        .or_else(|_| format!("[{peer}]:40000").parse())
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

async fn behind_proxies(pool: &PgPool, proxies: &str) -> TestApp {
    test_app_with_edge(
        pool,
        EdgeSettings {
            trusted_proxies: proxies.parse().unwrap(),
            ..EdgeSettings::default()
        },
    )
    .await
}

async fn operator(pool: &PgPool) {
    accounts::create(
        pool,
        &NewAccount {
            email: "olive@example.com",
            name: "Olive Operator",
            role: Role::Operator,
            tenant_id: None,
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
}

async fn addresses(pool: &PgPool) -> Vec<Option<String>> {
    sqlx::query_scalar("SELECT remote_addr FROM access_events ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(pool: PgPool) {
    let app = behind_proxies(&pool, "10.0.0.0/8").await;
    let mut spoofed = sign_in_request("nobody@example.com", "wrong password!", "/");
    spoofed
        .headers_mut()
        .insert("x-forwarded-for", "198.51.100.7".parse().unwrap());
    spoofed
        .headers_mut()
        .insert("forwarded", "for=198.51.100.8".parse().unwrap());
    send(&app.router, from("203.0.113.9", spoofed)).await;
    // Through the trusted proxy, the right-most hop it did not add is believed.
    let mut proxied = sign_in_request("nobody@example.com", "wrong password!", "/");
    proxied.headers_mut().insert(
        "x-forwarded-for",
        "1.2.3.4, 198.51.100.7, 10.0.0.3".parse().unwrap(),
    );
    send(&app.router, from("10.0.0.2", proxied)).await;
    assert_eq!(
        addresses(&pool).await,
        [
            Some("203.0.113.9".to_owned()),
            Some("198.51.100.7".to_owned())
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_spoofed_forwarded_for_does_not_escape_the_address_limit(pool: PgPool) {
    let app = behind_proxies(&pool, "10.0.0.0/8").await;
    // Spend the address's allowance as the sign-in handler would.
    for n in 0..20 {
        app.state
            .throttle
            .attempt(&format!("someone{n}@example.com"), "203.0.113.9")
            .await
            .unwrap();
    }
    let mut spoofed = sign_in_request("fresh@example.com", "wrong password!", "/");
    spoofed
        .headers_mut()
        .insert("x-forwarded-for", "198.51.100.99".parse().unwrap());
    let answer = send(&app.router, from("203.0.113.9", spoofed)).await;
    assert!(
        answer.location.starts_with("/login?error=throttled"),
        "{}",
        answer.location
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_throttled_address_cannot_keep_someone_elses_account_locked(pool: PgPool) {
    operator(&pool).await;
    let app = behind_proxies(&pool, "").await;
    for n in 0..20 {
        app.state
            .throttle
            .attempt(&format!("someone{n}@example.com"), "203.0.113.66")
            .await
            .unwrap();
    }
    // From the throttled address, keep trying Olive's account: all refused,
    // none spends her allowance.
    for _ in 0..10 {
        let request = sign_in_request("olive@example.com", "wrong password!", "/");
        let answer = send(&app.router, from("203.0.113.66", request)).await;
        assert!(answer.location.starts_with("/login?error=throttled"));
    }
    let request = sign_in_request("olive@example.com", PASSWORD, "/");
    let answer = send(&app.router, from("198.51.100.20", request)).await;
    assert_eq!(answer.location, "/", "Olive signs in from her own address");
    assert!(answer.cookie.is_some());
    app.state.refusals.flush().await;
    // The ten refusals are one row with a count, recorded as the address's.
    let (actor, subject, count): (String, Option<String>, i32) = sqlx::query_as(
        "SELECT actor, subject, count FROM access_log WHERE action = 'sign_in_refused'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor, "anonymous");
    assert_eq!(
        subject.as_deref(),
        Some("too many attempts from this address")
    );
    assert_eq!(count, 10);
    // The administration page shows the burst once, with its count.
    let cookie = crate::common::cookie_pair(&answer.cookie.unwrap());
    let admin = send(&app.router, crate::common::get_with("/admin", &cookie)).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.body.contains("×10"), "the count is shown");
    assert_eq!(
        admin
            .body
            .matches("too many attempts from this address")
            .count(),
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn ipv6_clients_are_throttled_per_64(pool: PgPool) {
    let throttle = SignInThrottle::new(serving_pool(&pool));
    for n in 0..20 {
        throttle
            .attempt(
                &format!("a{n}@example.com"),
                &format!("2001:db8:1:2::{n:x}"),
            )
            .await
            .unwrap();
    }
    let same_64 = throttle
        .attempt("b@example.com", "2001:db8:1:2:ffff:ffff:ffff:ffff")
        .await;
    assert!(matches!(same_64, Err(Refused::Address(_))), "{same_64:?}");
    assert_eq!(
        throttle.attempt("b@example.com", "2001:db8:1:3::1").await,
        Ok(())
    );
    assert_eq!(
        server::auth::throttle::address_key("2001:db8:1:2:aaaa::1"),
        "2001:db8:1:2::/64"
    );
    assert_eq!(
        server::auth::throttle::address_key("::ffff:192.0.2.1"),
        "192.0.2.1"
    );
}

fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

/// 50,000 refused sign-ins, recorded as the sign-in handler records them (the
/// refusal path does no hashing, so calling the throttle and the access log
/// directly is what 50,000 requests would do): half on one account from random
/// addresses, half on random accounts from one address.
#[sqlx::test(migrations = "../migrations")]
async fn fifty_thousand_refused_sign_ins_stay_a_few_rows_and_bounded_memory(pool: PgPool) {
    let throttle = SignInThrottle::new(serving_pool(&pool));
    let before = resident_kib();
    let started = Instant::now();
    let mut random: u32 = 0x9e37_79b9;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 17;
        random ^= random << 5;
        random
    };
    let attempts: Vec<(String, String)> = (0..50_000)
        .map(|n| {
            if n % 2 == 0 {
                let ip = std::net::Ipv4Addr::from(next());
                ("olive@example.com".to_owned(), ip.to_string())
            } else {
                (
                    format!("guess{}@example.com", next()),
                    "203.0.113.5".to_owned(),
                )
            }
        })
        .collect();
    let mut refused = 0;
    let mut records = Vec::new();
    // Eight at a time, as concurrent requests would come.
    let outcomes: Vec<_> = futures::stream::iter(&attempts)
        .map(|(account, address)| throttle.attempt(account, address))
        .buffered(8)
        .collect()
        .await;
    for ((account, address), outcome) in attempts.iter().zip(outcomes) {
        if let Err(refusal) = outcome {
            refused += 1;
            records.push((account.clone(), address.clone(), refusal));
        }
    }
    assert!(refused > 49_900, "{refused} refused");
    let log = RefusalLog::new(pool.clone());
    log.spawn_flushing(CancellationToken::new());
    for (account, address, refusal) in &records {
        let (actor, subject) = match refusal {
            Refused::Address(_) => ("anonymous", "too many attempts from this address"),
            Refused::Account(_) => (account.as_str(), "too many attempts on this account"),
        };
        log.record(&Event {
            account_id: None,
            actor,
            action: Action::SignInRefused,
            subject: Some(subject),
            remote_addr: Some(address),
        })
        .await;
    }
    assert!(log.pending_bursts() <= server::auth::refusals::MAX_PENDING);
    log.flush().await;
    let minutes = started.elapsed().as_secs() / 60;
    let (rows, total): (i64, i64) =
        sqlx::query_as("SELECT count(*), sum(count)::bigint FROM access_log")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(total, refused, "every refusal is counted");
    // Two bursts, one row each per minute of the burst.
    let bound = i64::try_from(2 * (minutes + 1)).unwrap();
    assert!(rows <= bound, "{rows} rows for {refused} refusals");
    let several: bool = sqlx::query_scalar(
        "SELECT bool_or(several_addresses) FROM access_log WHERE actor = 'olive@example.com'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(several, "the burst says it came from several addresses");
    // One counter per key tried: 25,000 random addresses, Olive, the one
    // address and the accounts it could try: its burst of 20, then one more
    // every 6 s while the test ran.
    let counters: i64 = sqlx::query_scalar("SELECT count(*) FROM throttle_buckets")
        .fetch_one(&pool)
        .await
        .unwrap();
    let bound = 25_000 + 2 + 20 + i64::try_from(started.elapsed().as_secs() / 6 + 1).unwrap();
    assert!(counters <= bound, "{counters} counters, more than {bound}");
    // Whole-process RSS (other tests run alongside): 25,000 address keys take a
    // few MB; the bound leaves room for the neighbours.
    let grown = resident_kib().saturating_sub(before);
    assert!(grown < 256 * 1024, "RSS grew by {grown} KiB");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_burst_row_can_only_count_up(pool: PgPool) {
    for _ in 0..3 {
        audit::record(
            &pool,
            &Event {
                account_id: None,
                actor: "anonymous",
                action: Action::InvitationRefused,
                subject: Some("too many attempts"),
                remote_addr: Some("203.0.113.5"),
            },
        )
        .await;
    }
    let count: i32 = sqlx::query_scalar("SELECT count FROM access_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 3);
    // Even as the tables' owner: the event never changes, its count only goes up.
    for (statement, refusal) in [
        (
            "UPDATE access_events SET remote_addr = '10.0.0.1'",
            "append-only",
        ),
        (
            "UPDATE access_events SET subject = 'nothing happened'",
            "append-only",
        ),
        ("DELETE FROM access_events", "append-only"),
        (
            "UPDATE access_event_repeats SET count = 1",
            "only counts up",
        ),
        (
            "UPDATE access_event_repeats SET count = count",
            "only counts up",
        ),
        ("DELETE FROM access_event_repeats", "only counts up"),
    ] {
        let error = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(error.to_string().contains(refusal), "{statement}: {error}");
    }
    // Other events are never merged.
    for _ in 0..2 {
        audit::record(
            &pool,
            &Event {
                account_id: None,
                actor: "olive@example.com",
                action: Action::SignInFailed,
                subject: None,
                remote_addr: Some("203.0.113.5"),
            },
        )
        .await;
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM access_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 3);
}

fn events_request(peer: &str) -> Request<Body> {
    from(
        peer,
        Request::get("/api/events").body(Body::empty()).unwrap(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn event_streams_are_capped_per_address_and_overall(pool: PgPool) {
    let app = test_app_with_edge(
        &pool,
        EdgeSettings {
            max_event_streams: 3,
            max_event_streams_per_address: 2,
            ..EdgeSettings::default()
        },
    )
    .await;
    let open = |peer: &'static str| app.router.clone().oneshot(events_request(peer));
    let first = open("203.0.113.1").await.unwrap();
    let second = open("203.0.113.1").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    let third = open("203.0.113.1").await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key(http::header::RETRY_AFTER));
    let other = open("198.51.100.1").await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    let full = open("192.0.2.1").await.unwrap();
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.state.event_streams.open_count(), 3);
    // A client going away gives its place back.
    drop(first);
    assert_eq!(app.state.event_streams.open_count(), 2);
    let again = open("192.0.2.1").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    drop((second, other, again));
    assert_eq!(app.state.event_streams.open_count(), 0);
}

/// The `live` event's id in a stream's next frame, within `wait`; `None` when
/// the stream sends nothing meanwhile.
async fn next_event_id(body: &mut Body, wait: std::time::Duration) -> Option<String> {
    use http_body_util::BodyExt;
    let frame = tokio::time::timeout(wait, body.frame()).await.ok()??.ok()?;
    let text = String::from_utf8_lossy(frame.data_ref()?).into_owned();
    text.lines()
        .find_map(|line| {
            line.strip_prefix("id: ")
                .or_else(|| line.strip_prefix("id:"))
        })
        .map(str::to_owned)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stream_resumed_with_the_current_version_sends_only_what_changed_after_it(pool: PgPool) {
    let app = test_app_with_edge(&pool, EdgeSettings::default()).await;
    let open = |last: Option<&str>| {
        let mut request = events_request("203.0.113.1");
        if let Some(last) = last {
            request
                .headers_mut()
                .insert("last-event-id", last.parse().unwrap());
        }
        app.router.clone().oneshot(request)
    };
    let wait = std::time::Duration::from_millis(500);
    let mut fresh = open(None).await.unwrap().into_body();
    let current = next_event_id(&mut fresh, wait)
        .await
        .expect("a new stream sends the current state at once");
    assert_eq!(current, app.clearance.state.borrow().version());

    // A client that missed changes (an unknown or older id) gets the state now.
    let mut behind = open(Some("an-older-version:0")).await.unwrap().into_body();
    assert_eq!(
        next_event_id(&mut behind, wait).await,
        Some(current.clone())
    );

    // A client that has the current version gets nothing until the next change.
    let mut resumed = open(Some(&current)).await.unwrap().into_body();
    assert_eq!(next_event_id(&mut resumed, wait).await, None);
    server::proofs::record(
        &pool,
        &crate::common::register(),
        &app::domain::proof_run::NewProofRun {
            proof_id: "stripe-self-serve-billing".to_owned(),
            passed: true,
            ran_at: chrono::Utc::now(),
            actor: "ci".to_owned(),
            output_digest: None,
            excerpt: String::new(),
        },
    )
    .await
    .unwrap();
    app.monitor.refresh().await;
    let next = app.clearance.state.borrow().version();
    assert_ne!(next, current);
    assert_eq!(
        next_event_id(&mut resumed, std::time::Duration::from_secs(5)).await,
        Some(next)
    );
}

#[test]
fn the_page_cache_key_keeps_only_the_filter_cut_to_its_limits() {
    let long = "x".repeat(60_000);
    let key = cache_key("/", &format!("scope={long}&utm_source={long}")).unwrap();
    assert_eq!(key, format!("/?scope={}", "x".repeat(100)));
    assert_eq!(
        cache_key("/", "q=a+b&page=2&fbclid=1").unwrap(),
        "/?q=a+b&page=2"
    );
    assert_eq!(cache_key("/", "").unwrap(), "/?");
    assert!(cache_key("/", &"page=1&".repeat(13)).is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_filter_values_are_cut_before_they_are_echoed_or_kept(pool: PgPool) {
    let app = test_app_with_edge(&pool, EdgeSettings::default()).await;
    let get = |uri: String| Request::get(uri).body(Body::empty()).unwrap();
    let home = app
        .router
        .clone()
        .oneshot(get("/".to_owned()))
        .await
        .unwrap();
    assert_eq!(home.headers()[CACHE_HEADER], "miss");
    let long = "y".repeat(8_000);
    let page = send(&app.router, get(format!("/?scope={long}&state={long}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&"y".repeat(100)),
        "the cut value is named"
    );
    assert!(
        !page.body.contains(&"y".repeat(101)),
        "nothing longer is echoed"
    );
    // A flood of distinct queries neither grows the cache past its capacity
    // nor evicts the pages already kept.
    for n in 0..(server::page_cache::DEFAULT_ENTRIES + 20) {
        let answer = app
            .router
            .clone()
            .oneshot(get(format!("/?scope=s{n}")))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    assert!(app.state.page_cache.len() <= server::page_cache::DEFAULT_ENTRIES);
    let home = app
        .router
        .clone()
        .oneshot(get("/".to_owned()))
        .await
        .unwrap();
    assert_eq!(home.headers()[CACHE_HEADER], "hit");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_ipv6_client_holds_event_streams_by_its_64(pool: PgPool) {
    let app = test_app_with_edge(
        &pool,
        EdgeSettings {
            max_event_streams_per_address: 2,
            ..EdgeSettings::default()
        },
    )
    .await;
    let open = |peer: &'static str| app.router.clone().oneshot(events_request(peer));
    let _first = open("2001:db8:5:6::1").await.unwrap();
    let _second = open("2001:db8:5:6::2").await.unwrap();
    let third = open("2001:db8:5:6:ffff::3").await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = open("2001:db8:5:7::1").await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::OK);
}
