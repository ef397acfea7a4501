//! A room's history in pages: the room page and the JSON documents show one page
//! of each chain at a time, with links and cursors back to record 1, refuse bad
//! page parameters with a 400, and work the state out from the chain's head alone.

use axum::body::Body;
use http::{header, Request, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

use crate::common::{
    attach_everything, cookie_pair, get_with, register, send, sign_in_request, test_app, world,
    PASSWORD,
};
use app::domain::launch_room::{AcceptanceForm, EvidenceForm};
use app::domain::ledger::EvidenceAction;
use app::live::LiveClearance;
use server::auth::session::SessionSettings;
use server::auth::tokens;
use server::rooms::{self, Submission};

const SIGNATURES: i32 = 25;

fn bearer(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

/// Signs acme's acceptance `SIGNATURES` times against the app's live readiness,
/// record `n` with approval reference `PO-n`.
async fn sign_many(
    pool: &PgPool,
    clearance: &LiveClearance,
    sponsor: &app::domain::access::Viewer,
) {
    let db = pool.clone();
    let digest = clearance.current().readiness.inputs.digest();
    for n in 1..=SIGNATURES {
        let form = AcceptanceForm {
            signer_name: "Ada Buyer".to_owned(),
            signer_role: "COO".to_owned(),
            approval_reference: format!("PO-{n}"),
            exclusions: Vec::new(),
            residual_risks: String::new(),
            readiness_digest: digest.clone(),
        };
        let (_, record) =
            rooms::submit_now(&db, clearance, sponsor, None, Submission::Accept(&form))
                .await
                .unwrap();
        assert_eq!(record.seq, n);
    }
}

/// The sequence numbers in the room page's acceptance-records table, in order.
fn acceptance_rows(page: &str) -> Vec<i32> {
    let Some(start) = page.find(r#"data-testid="acceptance-records""#) else {
        return Vec::new();
    };
    let table = &page[start..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(2) // what precedes the header row, and the header row
        .map(|row| {
            let cell = &row[row.find("<td>").unwrap() + 4..];
            cell[..cell.find("</td>").unwrap()].parse().unwrap()
        })
        .collect()
}

fn seqs(records: &Value) -> Vec<i64> {
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["seq"].as_i64().unwrap())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_room_page_shows_the_newest_records_and_links_to_older_pages(pool: PgPool) {
    let app = test_app(&pool, None, SessionSettings::default()).await;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    sign_many(&pool, &app.clearance, &w.sponsor_a).await;
    let answer = send(
        &app.router,
        sign_in_request("sponsor@acme.example", PASSWORD, "/"),
    )
    .await;
    let sponsor = cookie_pair(&answer.cookie.unwrap());

    let newest = send(&app.router, get_with("/rooms/acme", &sponsor)).await;
    assert_eq!(newest.status, StatusCode::OK);
    assert_eq!(
        acceptance_rows(&newest.body),
        (6..=25).rev().collect::<Vec<_>>()
    );
    assert!(newest
        .body
        .contains("Showing records 25 to 6 of 25, newest first."));
    assert!(
        newest
            .body
            .contains(r#"href="/rooms/acme?before=6#records-heading""#),
        "a link to the older page"
    );
    assert!(!newest.body.contains("Newest acceptance records"));
    // The acceptance in force is the head's, and all 11 evidence changes fit one page.
    assert!(newest.body.contains("PO-25"));
    assert!(!newest.body.contains(r#"data-testid="evidence-pages""#));

    let older = send(&app.router, get_with("/rooms/acme?before=6", &sponsor)).await;
    assert_eq!(older.status, StatusCode::OK);
    assert_eq!(acceptance_rows(&older.body), [5, 4, 3, 2, 1]);
    assert!(older.body.contains(r#"href="/rooms/acme#records-heading""#));
    assert!(!older.body.contains("Older acceptance records"));
    // An older page still shows the acceptance in force, not its own first record.
    assert!(older.body.contains(r#"data-testid="current-acceptance""#));
    assert!(older.body.contains("PO-25"));

    // Past record 1 the page says so, and still leads back to the newest.
    let past = send(&app.router, get_with("/rooms/acme?before=1", &sponsor)).await;
    assert_eq!(past.status, StatusCode::OK);
    assert!(acceptance_rows(&past.body).is_empty());
    assert!(past.body.contains("No older records."));
    assert!(past.body.contains(r#"href="/rooms/acme#records-heading""#));

    // The evidence log pages on its own cursor.
    let evidence = send(
        &app.router,
        get_with("/rooms/acme?evidence_before=4", &sponsor),
    )
    .await;
    assert_eq!(evidence.status, StatusCode::OK);
    assert!(evidence.body.contains(r#"data-testid="evidence-pages""#));
    assert!(evidence
        .body
        .contains(r#"href="/rooms/acme#records-heading""#));
    assert_eq!(acceptance_rows(&evidence.body).len(), 20);

    for bad in [
        "before=abc",
        "before=0",
        "before=-3",
        "evidence_before=x",
        "before=1.5",
    ] {
        let answer = send(
            &app.router,
            get_with(&format!("/rooms/acme?{bad}"), &sponsor),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            answer.body.contains("a record number (seq) from 1 up"),
            "{bad}"
        );
    }
    // The server function refuses a cursor the page would never send.
    let forged = Request::post("/api/room")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, &sponsor)
        .body(Body::from("slug=acme&tick=0&pages[before]=0"))
        .unwrap();
    let forged = send(&app.router, forged).await;
    assert!(!forged.status.is_success(), "{}", forged.body);
    assert!(!forged.body.contains("PO-1"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_acceptance_document_pages_its_history_back_to_record_one(pool: PgPool) {
    let app = test_app(&pool, None, SessionSettings::default()).await;
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    sign_many(&pool, &app.clearance, &w.sponsor_a).await;
    let (_, token) = tokens::create(&pool, "sponsor@acme.example", "ci")
        .await
        .unwrap();
    let get = |uri: String| {
        let router = app.router.clone();
        let token = token.clone();
        async move {
            let answer = send(&router, bearer(&uri, &token)).await;
            (answer.status, answer.body)
        }
    };

    // Without parameters: the default page, which holds all 25.
    let (status, body) = get("/api/platform/launch-acceptance".to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let whole: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seqs(&whole["history"]), (1..=25).rev().collect::<Vec<_>>());
    assert_eq!(whole["next_before"], Value::Null);
    assert_eq!(whole["current"]["seq"], 25);

    // Ten at a time, following the cursor, reaches every record exactly once.
    let mut seen = Vec::new();
    let mut uri = "/api/platform/launch-acceptance?limit=10".to_owned();
    loop {
        let (status, body) = get(uri.clone()).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        assert!(seqs(&page["history"]).len() <= 10);
        assert_eq!(
            page["current"]["seq"], 25,
            "the record in force on every page"
        );
        assert_eq!(page["state"], whole["state"]);
        seen.extend(seqs(&page["history"]));
        match page["next_before"].as_i64() {
            Some(before) => {
                assert_eq!(Some(&before), seen.last());
                uri = format!("/api/platform/launch-acceptance?limit=10&before={before}");
            }
            None => break,
        }
    }
    assert_eq!(seen, (1..=25).rev().collect::<Vec<_>>());

    let (_, body) = get("/api/platform/launch-acceptance?limit=3&before=4".to_owned()).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seqs(&page["history"]), [3, 2, 1]);
    assert_eq!(page["next_before"], Value::Null);

    // The launch-room document: each chain's page in chain order, each with its cursor.
    let (status, body) = get("/api/platform/launch-room?limit=10".to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let room: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        seqs(&room["acceptance_records"]),
        (16..=25).collect::<Vec<_>>()
    );
    assert_eq!(room["acceptance_records_next_before"], 16);
    assert_eq!(
        seqs(&room["evidence_changes"]),
        (2..=11).collect::<Vec<_>>()
    );
    assert_eq!(room["evidence_changes_next_before"], 2);
    assert_eq!(room["state"], "accepted");
    let (_, body) =
        get("/api/platform/launch-room?limit=10&before=16&evidence_before=2".to_owned()).await;
    let room: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        seqs(&room["acceptance_records"]),
        (6..=15).collect::<Vec<_>>()
    );
    assert_eq!(seqs(&room["evidence_changes"]), [1]);
    assert_eq!(room["evidence_changes_next_before"], Value::Null);

    // Bad values: a clear 400 naming the parameter.
    for (query, names) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("before=0", "before"),
        ("before=-5", "before"),
        ("before=abc", "before"),
        ("before=2147483648", "before"),
        ("page=2", "page"),
    ] {
        for document in ["launch-acceptance", "launch-room"] {
            let (status, body) = get(format!("/api/platform/{document}?{query}")).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{document}?{query}: {body}"
            );
            assert!(body.contains(names), "{document}?{query}: {body}");
        }
    }
    let (status, body) = get("/api/platform/launch-room?evidence_before=0".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("before"), "{body}");
    let (status, _) =
        get("/api/platform/launch-acceptance?limit=200&before=2147483647".to_owned()).await;
    assert_eq!(status, StatusCode::OK, "the bounds themselves are allowed");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_state_from_the_head_alone_matches_the_state_from_the_whole_chains(pool: PgPool) {
    let db = pool.clone();
    let app = test_app(&pool, None, SessionSettings::default()).await;
    let register = register();
    let w = world(&pool).await;
    let inputs = app.clearance.current().readiness.inputs.clone();
    let compare = |label: &'static str| {
        let pool = pool.clone();
        let register = register.clone();
        let inputs = inputs.clone();
        let operator = w.operator.clone();
        async move {
            let whole = rooms::load(&pool, &operator, "acme")
                .await
                .unwrap()
                .unwrap();
            let head = rooms::load_head(&pool, &operator, "acme")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                head.status(&register, &inputs),
                whole.status(&register, &inputs),
                "{label}"
            );
            assert_eq!(head.latest.as_ref(), whole.acceptances.last(), "{label}");
            let listed = rooms::load_all(&pool, &operator).await.unwrap();
            let listed = listed
                .iter()
                .find(|room| room.tenant.slug == "acme")
                .unwrap();
            assert_eq!(
                listed.status(&register, &inputs),
                whole.status(&register, &inputs),
                "{label}"
            );
        }
    };
    compare("a new room").await;
    attach_everything(&pool, &w.operator, "acme", "REF-1").await;
    compare("everything attached").await;
    // Detach one item, then attach it again with another reference: the newest
    // change of each item decides.
    let gate = register.gate("order-form-scope").unwrap();
    let item = gate.items[0].clone();
    for (action, reference) in [
        (EvidenceAction::Detached, ""),
        (EvidenceAction::Attached, "REF-2"),
        (EvidenceAction::Detached, ""),
    ] {
        rooms::change_evidence(
            &db,
            &register,
            &w.operator,
            "acme",
            action,
            &EvidenceForm {
                gate_id: gate.id.clone(),
                item: item.clone(),
                reference: reference.to_owned(),
                note: String::new(),
            },
        )
        .await
        .unwrap();
        compare("after a detach or re-attach").await;
    }
    rooms::change_evidence(
        &db,
        &register,
        &w.operator,
        "acme",
        EvidenceAction::Attached,
        &EvidenceForm {
            gate_id: gate.id.clone(),
            item,
            reference: "REF-3".to_owned(),
            note: String::new(),
        },
    )
    .await
    .unwrap();
    sign_many(&pool, &app.clearance, &w.sponsor_a).await;
    compare("signed 25 times").await;
    let head = rooms::load_head(&pool, &w.operator, "acme")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.latest.map(|latest| latest.seq), Some(SIGNATURES));
    // Only what is in force: one row per attached item.
    let attached: usize = register
        .customer_evidence
        .gates
        .iter()
        .filter(|gate| {
            [
                "order-form-scope",
                "authenticated-tenant-access",
                "support-incident-fallback",
            ]
            .contains(&gate.id.as_str())
        })
        .map(|gate| gate.items.len())
        .sum();
    assert_eq!(head.evidence.len(), attached);
    assert!(head
        .evidence
        .iter()
        .any(|change| change.reference == "REF-3"));
}
