//! The administration page and invitations over HTTP: each role against each kind
//! of endpoint, and a sponsor's way in from invitation link to signed-in session.

use axum::body::Body;
use http::{Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;

use app::domain::access::Role;
use server::auth::accounts::{self, NewAccount};
use server::auth::session::SessionSettings;

use crate::common::{cookie_pair, get_with, post_form, send, sign_in_request};

const PASSWORD: &str = "correct horse battery staple";

async fn signed_in(app: &axum::Router, pool: &PgPool, email: &str, role: Role) -> String {
    accounts::create(
        pool,
        &NewAccount {
            email,
            name: "Someone",
            role,
            tenant_id: None,
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
    let answer = send(app, sign_in_request(email, PASSWORD, "/")).await;
    cookie_pair(&answer.cookie.unwrap())
}

async fn denials(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(count), 0)::bigint FROM access_log WHERE action = 'access_denied'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Every tenant row, counted as the server itself: a bare connection has no role
/// set, so row-level security would hide every row and the count would prove
/// nothing.
async fn tenants_stored(pool: &PgPool) -> i64 {
    let mut tx = server::tenancy::begin(pool, server::tenancy::Acting::System)
        .await
        .unwrap();
    let count = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    count
}

#[sqlx::test(migrations = "../migrations")]
async fn the_administration_page_answers_each_role_as_it_may(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let operator = signed_in(&app, &pool, "ops@example.com", Role::Operator).await;
    let owner = signed_in(&app, &pool, "owner@example.com", Role::CommercialOwner).await;

    let public = send(&app, Request::get("/admin").body(Body::empty()).unwrap()).await;
    assert_eq!(public.status, StatusCode::UNAUTHORIZED);
    assert!(public.body.contains("sign in to see this page"));
    assert!(!public.body.contains("ops@example.com"));

    let page = send(&app, get_with("/admin", &operator)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"action="/admin/accounts""#),
        "operators get the forms"
    );
    assert!(page.body.contains("owner@example.com"));

    let page = send(&app, get_with("/admin", &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Read-only"));
    assert!(
        !page.body.contains(r#"action="/admin/accounts""#),
        "owners change nothing"
    );
    assert!(
        page.body.contains("sign in succeeded"),
        "the access log is listed"
    );

    // Writes: the public and owners are refused, and each refusal is logged.
    let before = denials(&pool).await;
    for cookie in [None, Some(owner.as_str())] {
        let answer = send(
            &app,
            post_form(
                "/admin/tenants",
                cookie,
                &[
                    ("name", "Acme"),
                    ("slug", "acme"),
                    ("motion", "managed-private-beta"),
                    ("billing_route", "invoice_only"),
                ],
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(denials(&pool).await, before + 2);
    assert_eq!(
        tenants_stored(&pool).await,
        0,
        "a refused write stores nothing"
    );

    // Operators' changes say what happened; bad input names its field.
    let answer = send(
        &app,
        post_form(
            "/admin/tenants",
            Some(&operator),
            &[
                ("name", "Acme Ltd"),
                ("slug", "Not a slug"),
                ("motion", "managed-private-beta"),
                ("billing_route", "invoice_only"),
            ],
        ),
    )
    .await;
    assert!(
        answer.location.starts_with("/rooms?error=slug"),
        "{}",
        answer.location
    );
    let answer = send(
        &app,
        post_form(
            "/admin/tenants",
            Some(&operator),
            &[
                ("name", "Acme Ltd"),
                ("slug", "acme"),
                ("motion", "managed-private-beta"),
                ("billing_route", "invoice_only"),
            ],
        ),
    )
    .await;
    assert!(
        answer
            .location
            .starts_with("/rooms/acme?done=Created+tenant+Acme+Ltd"),
        "{}",
        answer.location
    );
    assert_eq!(
        tenants_stored(&pool).await,
        1,
        "the same count sees the operator's tenant"
    );
    let answer = send(
        &app,
        post_form(
            "/admin/accounts",
            Some(&operator),
            &[
                ("name", "Nina"),
                ("email", "nina@example.com"),
                ("role", "buyer_sponsor"),
                ("password", PASSWORD),
            ],
        ),
    )
    .await;
    assert!(
        answer.location.starts_with("/admin?error=role"),
        "sponsors come by invitation only"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sponsor_joins_by_a_link_shown_once_and_reaches_only_their_tenant(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let operator = signed_in(&app, &pool, "ops@example.com", Role::Operator).await;
    for (name, slug) in [("Acme Ltd", "acme"), ("Borealis plc", "borealis")] {
        send(
            &app,
            post_form(
                "/admin/tenants",
                Some(&operator),
                &[
                    ("name", name),
                    ("slug", slug),
                    ("motion", "managed-private-beta"),
                    ("billing_route", "invoice_only"),
                ],
            ),
        )
        .await;
    }
    let acme: i64 = {
        let mut tx = server::tenancy::begin(&pool, server::tenancy::Acting::System)
            .await
            .unwrap();
        let id = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'acme'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let created = app
        .clone()
        .oneshot(post_form(
            "/admin/invitations",
            Some(&operator),
            &[
                ("tenant", &acme.to_string()),
                ("email", "Sam@Acme.example"),
                ("days", "7"),
            ],
        ))
        .await
        .unwrap();
    let location = created.headers()[http::header::LOCATION].to_str().unwrap();
    assert_eq!(location, "/admin#new-invitation");
    let link_cookie = created
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("clearance_new_invitation="))
        .expect("the link travels to /admin in a cookie of its own");
    assert!(link_cookie.contains("HttpOnly") && link_cookie.contains("Path=/admin"));
    let link_cookie = cookie_pair(link_cookie);
    // Everything the server keeps between the post and the page: sessions and
    // invitations, as stored.
    let stored_after_post: Vec<String> = sqlx::query_scalar(
        "SELECT encode(data, 'escape') FROM tower_sessions.session
         UNION ALL SELECT row_to_json(i)::text FROM invitations i",
    )
    .fetch_all(&pool)
    .await
    .unwrap();

    let page = send(
        &app,
        get_with("/admin", &format!("{operator}; {link_cookie}")),
    )
    .await;
    let link = page
        .body
        .split(r#"data-testid="invitation-link">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    for stored in &stored_after_post {
        assert!(
            !stored.contains(&token),
            "the raw token is never stored server-side: {stored}"
        );
    }
    let again = send(
        &app,
        get_with("/admin", &format!("{operator}; {link_cookie}")),
    )
    .await;
    assert!(!again.body.contains(&token), "shown once");

    let invite = send(
        &app,
        Request::get(format!("/invite/{token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(invite
        .body
        .contains("buyer sponsor of <strong>Acme Ltd</strong>"));
    assert!(invite.body.contains("sam@acme.example"));

    let weak = send(
        &app,
        post_form(
            "/auth/invitations/accept",
            None,
            &[("token", &token), ("name", "Sam"), ("password", "short")],
        ),
    )
    .await;
    assert!(
        weak.location
            .starts_with(&format!("/invite/{token}?error=password")),
        "{}",
        weak.location
    );

    let accepted = send(
        &app,
        post_form(
            "/auth/invitations/accept",
            None,
            &[
                ("token", &token),
                ("name", "Sam Sponsor"),
                ("password", PASSWORD),
            ],
        ),
    )
    .await;
    assert_eq!(accepted.location, "/");
    let sponsor = cookie_pair(&accepted.cookie.unwrap());
    let home = send(&app, get_with("/", &sponsor)).await;
    let signed_in_as = home.body.split("Signed in as").nth(1).unwrap_or_default();
    assert!(
        signed_in_as.starts_with(" <strong>Sam Sponsor</strong>"),
        "{}",
        &signed_in_as[..signed_in_as.len().min(200)]
    );

    // The sponsor reaches their tenant only, and no administration.
    let tenants = server::tenants::visible(
        &pool,
        &app::domain::access::Viewer::Account(
            accounts::find_by_email(&pool, "sam@acme.example")
                .await
                .unwrap()
                .unwrap()
                .summary,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        tenants
            .iter()
            .map(|tenant| tenant.slug.as_str())
            .collect::<Vec<_>>(),
        ["acme"]
    );
    assert_eq!(
        send(&app, get_with("/admin", &sponsor)).await.status,
        StatusCode::FORBIDDEN
    );

    // Used once: the link is dead.
    let reuse = send(
        &app,
        Request::get(format!("/invite/{token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        reuse.body.contains(
            "This invitation link has already been used. Sign in with the password you chose."
        ),
        "the page says why the link is dead"
    );
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM access_events ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(actions.contains(&"invitation_created".to_owned()));
    assert!(actions.contains(&"invitation_used".to_owned()));
    assert!(actions.contains(&"access_denied".to_owned()));
}

#[sqlx::test(migrations = "../migrations")]
async fn operators_switch_roles_between_operator_and_owner_and_it_is_logged(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let operator = signed_in(&app, &pool, "ops@example.com", Role::Operator).await;
    let owner = signed_in(&app, &pool, "owner@example.com", Role::CommercialOwner).await;

    let refused = send(
        &app,
        post_form(
            "/admin/accounts/role",
            Some(&owner),
            &[("email", "owner@example.com"), ("role", "operator")],
        ),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "owners change nothing, not even themselves"
    );
    let own = send(
        &app,
        post_form(
            "/admin/accounts/role",
            Some(&operator),
            &[("email", "ops@example.com"), ("role", "commercial_owner")],
        ),
    )
    .await;
    assert!(
        own.location.starts_with("/admin?error=email"),
        "{}",
        own.location
    );
    let sponsor = send(
        &app,
        post_form(
            "/admin/accounts/role",
            Some(&operator),
            &[("email", "owner@example.com"), ("role", "buyer_sponsor")],
        ),
    )
    .await;
    assert!(
        sponsor.location.starts_with("/admin?error=role"),
        "{}",
        sponsor.location
    );

    let changed = send(
        &app,
        post_form(
            "/admin/accounts/role",
            Some(&operator),
            &[("email", "owner@example.com"), ("role", "operator")],
        ),
    )
    .await;
    assert!(
        changed.location.starts_with("/admin?done="),
        "{}",
        changed.location
    );
    // The session follows the new role at once.
    let page = send(&app, get_with("/admin", &owner)).await;
    assert!(page.body.contains(r#"action="/admin/accounts""#));
    let subject: String =
        sqlx::query_scalar("SELECT subject FROM access_events WHERE action = 'role_changed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(subject, "owner@example.com: commercial_owner → operator");
}

/// The access log's invitation refusals: (subject, address), oldest first.
async fn refused_tokens(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT subject, remote_addr FROM access_log, generate_series(1, count)
         WHERE action = 'invitation_refused' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn sponsor_accounts(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM accounts WHERE role = 'buyer_sponsor'")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn accept_form(token: &str) -> Request<Body> {
    post_form(
        "/auth/invitations/accept",
        None,
        &[
            ("token", token),
            ("name", "Late Larry"),
            ("password", PASSWORD),
        ],
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_invitation_is_refused_with_a_clear_message_and_changes_nothing(pool: PgPool) {
    let w = crate::common::world(&pool).await;
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let created =
        server::auth::invitations::create(&pool, &w.operator, w.a, "late@acme.example", 7)
            .await
            .unwrap();
    let mut tx = server::tenancy::begin(&pool, server::tenancy::Acting::System)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE invitations SET created_at = now() - interval '8 days',
                                expires_at = now() - interval '1 day'
         WHERE id = $1",
    )
    .bind(created.invitation.id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let sponsors = sponsor_accounts(&pool).await;

    let refused = send(&app, accept_form(&created.token)).await;
    assert!(
        refused.location.starts_with(&format!(
            "/invite/{}?error=This+invitation+link+has+expired.+Ask+your+operator+for+a+new+one.",
            created.token
        )),
        "{}",
        refused.location
    );
    assert!(refused.cookie.is_none(), "nobody is signed in");
    let page = send(
        &app,
        Request::get(&refused.location).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(page
        .body
        .contains("This invitation link has expired. Ask your operator for a new one."));
    let opened = send(
        &app,
        Request::get(format!("/invite/{}", created.token))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(opened.body.contains(r#"data-testid="invitation-unusable""#));
    assert!(
        opened
            .body
            .contains("This invitation link has expired. Ask your operator for a new one."),
        "opening the link says so too"
    );
    assert!(!opened.body.contains("accept-form"));

    assert_eq!(sponsor_accounts(&pool).await, sponsors, "no account made");
    assert!(accounts::find_by_email(&pool, "late@acme.example")
        .await
        .unwrap()
        .is_none());
    let mut tx = server::tenancy::begin(&pool, server::tenancy::Acting::System)
        .await
        .unwrap();
    let used: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT used_at FROM invitations WHERE id = $1")
            .bind(created.invitation.id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert!(used.is_none(), "the invitation is not marked used");

    let logged = refused_tokens(&pool).await;
    assert!(
        logged.contains(&(
            "expired invitation for late@acme.example".to_owned(),
            "unknown".to_owned()
        )),
        "{logged:?}"
    );
    let everything: Vec<String> =
        sqlx::query_scalar("SELECT concat_ws(' ', actor, action, subject) FROM access_events")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        everything.iter().all(|row| !row.contains(&created.token)),
        "the token never reaches the access log"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn repeated_bad_invitation_tokens_are_refused_for_a_while_and_change_nothing(pool: PgPool) {
    let w = crate::common::world(&pool).await;
    let test_app = crate::common::test_app(&pool, None, SessionSettings::default()).await;
    let app = test_app.router.clone();
    let good = server::auth::invitations::create(&pool, &w.operator, w.a, "real@acme.example", 7)
        .await
        .unwrap();
    let sponsors = sponsor_accounts(&pool).await;

    let started = std::time::Instant::now();
    for guess in 0..10 {
        let token = format!("{guess:064x}");
        let answer = send(&app, accept_form(&token)).await;
        assert!(
            answer.location.starts_with(&format!(
                "/invite/{token}?error=This+invitation+link+is+not+valid"
            )),
            "{}",
            answer.location
        );
    }
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(10 * 400),
        "each bad token is answered as slowly as a failed sign-in"
    );

    // Now even the real token is refused from this address, with the wait.
    let throttled = send(&app, accept_form(&good.token)).await;
    let message = form_urlencoded::parse(throttled.location.split('?').nth(1).unwrap().as_bytes())
        .find(|(key, _)| key == "error")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    assert!(
        message.starts_with("Too many attempts with invitation links. Try again in ")
            && message.ends_with(" seconds."),
        "{message}"
    );
    assert!(throttled.cookie.is_none());
    // Opening a link is throttled the same way.
    let page = send(
        &app,
        Request::get(format!("/invite/{}", good.token))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        page.body.contains("too many attempts: try again in"),
        "the page says how long to wait"
    );
    assert!(!page.body.contains("real@acme.example"));

    assert_eq!(sponsor_accounts(&pool).await, sponsors, "no account made");
    assert!(server::auth::invitations::find_pending(&pool, &good.token)
        .await
        .unwrap()
        .is_some());
    // Throttle refusals after the first of a burst are counted, then written.
    test_app.state.refusals.flush().await;
    let logged = refused_tokens(&pool).await;
    assert_eq!(
        logged
            .iter()
            .filter(|(subject, _)| subject == "unknown invitation token")
            .count(),
        10
    );
    assert_eq!(
        logged
            .iter()
            .filter(|(subject, _)| subject == "too many attempts")
            .count(),
        2
    );
}

async fn access_events_of(pool: &PgPool, action: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT subject FROM access_events WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn operators_create_operator_and_commercial_owner_accounts_that_can_sign_in(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let operator = signed_in(&app, &pool, "ops@example.com", Role::Operator).await;
    for (email, role, label) in [
        ("second-ops@example.com", "operator", "operator"),
        ("cfo@example.com", "commercial_owner", "commercial owner"),
    ] {
        let answer = send(
            &app,
            post_form(
                "/admin/accounts",
                Some(&operator),
                &[
                    ("name", "New Person"),
                    ("email", email),
                    ("role", role),
                    ("password", PASSWORD),
                ],
            ),
        )
        .await;
        let expected = form_urlencoded::Serializer::new(String::new())
            .append_pair("done", &format!("Created {label} account {email}."))
            .finish();
        assert_eq!(answer.location, format!("/admin?{expected}"));
        let stored = accounts::find_by_email(&pool, email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.summary.role.as_str(), role);
        assert_eq!(stored.summary.tenant_id, None);
        let signed_in = send(&app, sign_in_request(email, PASSWORD, "/admin")).await;
        assert_eq!(signed_in.location, "/admin", "the new account signs in");
    }
    assert_eq!(
        access_events_of(&pool, "account_created").await,
        [
            "second-ops@example.com (operator)",
            "cfo@example.com (commercial_owner)"
        ]
    );

    // The same address twice, or a weak password, names its field and adds nobody.
    let again = send(
        &app,
        post_form(
            "/admin/accounts",
            Some(&operator),
            &[
                ("name", "Copy"),
                ("email", "cfo@example.com"),
                ("role", "operator"),
                ("password", PASSWORD),
            ],
        ),
    )
    .await;
    assert!(
        again.location.starts_with("/admin?error="),
        "{}",
        again.location
    );
    let weak = send(
        &app,
        post_form(
            "/admin/accounts",
            Some(&operator),
            &[
                ("name", "Weak"),
                ("email", "weak@example.com"),
                ("role", "operator"),
                ("password", "short"),
            ],
        ),
    )
    .await;
    assert!(
        weak.location.starts_with("/admin?error=password"),
        "{}",
        weak.location
    );
    assert!(accounts::find_by_email(&pool, "weak@example.com")
        .await
        .unwrap()
        .is_none());
    assert_eq!(access_events_of(&pool, "account_created").await.len(), 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_disabled_account_can_no_longer_sign_in_nor_use_its_session(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let operator = signed_in(&app, &pool, "ops@example.com", Role::Operator).await;
    let owner = signed_in(&app, &pool, "owner@example.com", Role::CommercialOwner).await;
    assert_eq!(
        send(&app, get_with("/admin", &owner)).await.status,
        StatusCode::OK
    );

    let refused = send(
        &app,
        post_form(
            "/admin/accounts/disable",
            Some(&owner),
            &[("email", "ops@example.com")],
        ),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "owners disable nobody"
    );
    let own = send(
        &app,
        post_form(
            "/admin/accounts/disable",
            Some(&operator),
            &[("email", "ops@example.com")],
        ),
    )
    .await;
    assert!(
        own.location.starts_with("/admin?error=email"),
        "{}",
        own.location
    );

    let disabled = send(
        &app,
        post_form(
            "/admin/accounts/disable",
            Some(&operator),
            &[("email", "owner@example.com")],
        ),
    )
    .await;
    assert_eq!(
        disabled.location,
        "/admin?done=Disabled+owner%40example.com."
    );
    assert_eq!(
        send(&app, get_with("/admin", &owner)).await.status,
        StatusCode::UNAUTHORIZED,
        "the session it had stops working at once"
    );
    let again = send(&app, sign_in_request("owner@example.com", PASSWORD, "/")).await;
    assert!(
        again.location.starts_with("/login?error=invalid"),
        "{}",
        again.location
    );
    assert!(again.cookie.is_none());
    let twice = send(
        &app,
        post_form(
            "/admin/accounts/disable",
            Some(&operator),
            &[("email", "owner@example.com")],
        ),
    )
    .await;
    assert!(
        twice.location.starts_with("/admin?error=email"),
        "{}",
        twice.location
    );
    assert_eq!(
        access_events_of(&pool, "account_disabled").await,
        ["owner@example.com"]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_operator_revokes_an_invitation_and_its_link_stops_working(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let w = crate::common::world(&pool).await;
    let operator = cookie_pair(
        &send(&app, sign_in_request("ops@example.com", PASSWORD, "/"))
            .await
            .cookie
            .unwrap(),
    );
    let owner = cookie_pair(
        &send(&app, sign_in_request("owner@example.com", PASSWORD, "/"))
            .await
            .cookie
            .unwrap(),
    );
    let created =
        server::auth::invitations::create(&pool, &w.operator, w.a, "revoked@acme.example", 7)
            .await
            .unwrap();
    let uri = format!("/admin/invitations/{}/revoke", created.invitation.id);

    for cookie in [None, Some(owner.as_str())] {
        let answer = send(&app, post_form(&uri, cookie, &[])).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
    }
    assert!(
        server::auth::invitations::find_pending(&pool, &created.token)
            .await
            .unwrap()
            .is_some()
    );

    let revoked = send(&app, post_form(&uri, Some(&operator), &[])).await;
    assert_eq!(
        revoked.location,
        "/admin?done=Revoked+the+invitation+for+revoked%40acme.example."
    );
    let page = send(&app, get_with("/admin", &operator)).await;
    assert!(page.body.contains("revoked@acme.example"));
    let again = send(&app, post_form(&uri, Some(&operator), &[])).await;
    assert!(
        again.location.starts_with("/admin?error=invitation"),
        "{}",
        again.location
    );

    let used = send(&app, accept_form(&created.token)).await;
    assert!(
        used.location
            .contains("error=This+invitation+link+was+revoked"),
        "{}",
        used.location
    );
    assert!(accounts::find_by_email(&pool, "revoked@acme.example")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        access_events_of(&pool, "invitation_revoked").await,
        ["revoked@acme.example"]
    );
}
