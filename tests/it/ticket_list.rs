//! `tickets`: keyset pages in both directions, filters, views, the recycle bin.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, fixtures, vocabulary};
use deskgraph::entity::ConditionMetType;

pub async fn create(app: &TestApp, input: Value) -> i64 {
    let data = app
        .graphql(
            "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await;
    data["createTicket"]["id"].as_i64().unwrap()
}

/// A ticket by email about `subject` from `contact`; returns its id.
pub async fn create_about(app: &TestApp, contact: Uuid, subject: &str) -> i64 {
    create(
        app,
        json!({ "subject": subject, "channelId": "email", "contactOrVisitorId": contact }),
    )
    .await
}

/// `n` tickets for one contact, oldest first; returns their ids.
async fn tickets(app: &TestApp, n: usize) -> Vec<i64> {
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(create_about(app, contact, &format!("ticket {i}")).await);
    }
    ids
}

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: TicketFilter, $orderBy: TicketOrder) {
  tickets(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

fn ids_of(conn: &Value) -> Vec<i64> {
    conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_i64().unwrap())
        .collect()
}

async fn page(app: &TestApp, vars: Value) -> Value {
    app.graphql(PAGE, vars).await["tickets"].clone()
}

async fn listed(app: &TestApp, filter: Value) -> Vec<i64> {
    let mut ids = ids_of(&page(app, json!({ "first": 100, "filter": filter })).await);
    ids.sort();
    ids
}

/// Every ticket `filter` lists, in pages of `size`: walked forwards, then backwards and put
/// together. Each page's flags are checked on the way.
async fn all_pages(app: &TestApp, filter: Value, size: u64) -> (Vec<i64>, Vec<i64>) {
    let mut forwards = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let p = page(
            app,
            json!({ "first": size, "after": after, "filter": filter }),
        )
        .await;
        forwards.extend(ids_of(&p));
        assert_eq!(p["pageInfo"]["hasPreviousPage"], after.is_some());
        if p["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let mut backwards = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let p = page(
            app,
            json!({ "last": size, "before": before, "filter": filter }),
        )
        .await;
        let mut ids = ids_of(&p);
        ids.extend(backwards);
        backwards = ids;
        assert_eq!(p["pageInfo"]["hasNextPage"], before.is_some());
        if p["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = p["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    (forwards, backwards)
}

#[tokio::test]
async fn paging_forwards_then_backwards_visits_every_ticket_once_in_order() {
    let app = TestApp::spawn().await;
    let mut all = tickets(&app, 7).await;
    all.reverse(); // most recently updated first
    assert_eq!(page(&app, json!({ "first": 3 })).await["totalCount"], 7);
    let (forwards, backwards) = all_pages(&app, json!({}), 3).await;
    assert_eq!(forwards, all);
    assert_eq!(
        backwards, all,
        "backwards pages, put together, are the same list"
    );
}

#[tokio::test]
async fn keyword_pages_are_the_same_whether_found_walking_the_list_or_from_the_index() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let mut parcels = Vec::new();
    let mut invoices = Vec::new();
    for i in 0..9 {
        let (subject, into) = match i % 3 {
            2 => ("invoice copy", &mut invoices),
            _ => ("parcel missing", &mut parcels),
        };
        into.push(create_about(&app, contact, subject).await);
    }
    parcels.reverse();
    invoices.reverse();
    let postgres = app.db.get_database_backend() == sea_orm::DbBackend::Postgres;
    // How many page statements walked the list, and how many asked the index (counts aside).
    let ways = |sql: &[String]| {
        let pages = sql.iter().filter(|s| !s.starts_with("SELECT COUNT("));
        let walked = pages
            .clone()
            .filter(|s| s.starts_with("SELECT * FROM ("))
            .count();
        let indexed = pages
            .filter(|s| s.contains("\"ticket_search\" WHERE \"site_id\""))
            .count();
        (walked, indexed)
    };

    // A common word: every page is found walking the list (PostgreSQL).
    app.sql.start();
    let (forwards, backwards) = all_pages(&app, json!({ "keywords": "parc" }), 2).await;
    let sql = app.sql.stop();
    assert_eq!(forwards, parcels);
    assert_eq!(backwards, parcels);
    if postgres {
        let (walked, indexed) = ways(&sql);
        assert!(walked >= 4, "{sql:#?}");
        // Only the last page each way, which has no next one, goes on to the index.
        assert_eq!(indexed, 2, "{sql:#?}");
    }

    // Fewer matches than a page: the walk comes back short and the index answers.
    app.sql.start();
    let (forwards, backwards) = all_pages(&app, json!({ "keywords": "invoice" }), 5).await;
    let sql = app.sql.stop();
    assert_eq!(forwards, invoices);
    assert_eq!(backwards, invoices);
    if postgres {
        assert_eq!(ways(&sql), (2, 2), "{sql:#?}");
    }
    // Keywords and another filter together.
    let (forwards, _) =
        all_pages(&app, json!({ "keywords": "parcel", "status": ["NEW"] }), 1).await;
    assert_eq!(forwards, parcels);
    assert!(
        all_pages(
            &app,
            json!({ "keywords": "parcel", "status": ["RESOLVED"] }),
            2
        )
        .await
        .0
        .is_empty()
    );
    // Keywords over the limit are refused, even when a walk of the list would find a page
    // (and no count asks the index).
    let (_, refused) = app
        .graphql_with(
            Some(&app.token),
            "query($f: TicketFilter) { tickets(first: 2, filter: $f) { edges { node { id } } } }",
            json!({ "f": { "keywords": "parc ".repeat(50) } }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "keywords",
        "{refused}"
    );
}

#[tokio::test]
async fn a_cursor_stays_put_when_new_tickets_arrive() {
    let app = TestApp::spawn().await;
    let mut all = tickets(&app, 4).await;
    all.reverse();
    let first = page(&app, json!({ "first": 2 })).await;
    assert_eq!(ids_of(&first), all[..2]);
    // A new ticket lands at the top of the inbox; the next page is still the next page.
    tickets(&app, 1).await;
    let next = page(
        &app,
        json!({ "first": 2, "after": first["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(ids_of(&next), all[2..]);
}

#[tokio::test]
async fn tickets_can_be_ordered_by_creation_or_id_either_way() {
    let app = TestApp::spawn().await;
    let all = tickets(&app, 5).await;
    // Touch the oldest so update order differs from creation order.
    app.graphql(
        "mutation($id: Int!) { updateTicket(id: $id, input: { priority: HIGH }) { id } }",
        json!({ "id": all[0] }),
    )
    .await;
    let by_update = ids_of(&page(&app, json!({ "first": 10 })).await);
    assert_eq!(by_update[0], all[0]);
    let by_created = ids_of(
        &page(
            &app,
            json!({ "first": 10, "orderBy": { "field": "CREATED_TIME", "direction": "ASC" } }),
        )
        .await,
    );
    assert_eq!(by_created, all);
    let by_id_desc = page(&app, json!({ "first": 2, "orderBy": { "field": "ID" } })).await;
    assert_eq!(ids_of(&by_id_desc), vec![all[4], all[3]]);
    let rest = page(&app, json!({ "first": 10, "after": by_id_desc["pageInfo"]["endCursor"], "orderBy": { "field": "ID" } })).await;
    assert_eq!(ids_of(&rest), vec![all[2], all[1], all[0]]);
    // A cursor of one order is refused by another.
    let (_, error) = app
        .graphql_error(
            PAGE,
            json!({ "first": 2, "after": by_id_desc["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn paging_arguments_out_of_bounds_are_refused_clearly() {
    let app = TestApp::spawn().await;
    tickets(&app, 1).await;
    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "last": 101 }), "last"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 2, "last": 2 }), "last"),
        (json!({ "first": 2, "after": "not-a-cursor" }), "after"),
        (json!({ "last": 2, "after": "dTox" }), "after"),
    ] {
        let (status, error) = app.graphql_error(PAGE, vars.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{vars}");
        assert_eq!(error["extensions"]["field"], field, "{vars}");
    }
    // Twenty by default, a hundred at most.
    let p = page(&app, json!({ "first": 100 })).await;
    assert_eq!(ids_of(&p).len(), 1);
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let ann = fixtures::contact(&app.db, site, "Ann").await;
    let guest = fixtures::visitor(&app.db, site, "Guest").await;
    let support = fixtures::department(&app.db, site, "Support").await;
    let vip = vocabulary::tag(&app.db, site, "vip").await;
    let me = app.site.admin.id;

    let a = create(&app, json!({ "subject": "Refund for order 42", "channelId": "email", "contactOrVisitorId": ann, "priority": "HIGH", "tagIds": [vip] })).await;
    let b = create(&app, json!({ "subject": "Login broken", "channelId": "chat", "contactOrVisitorId": guest, "contactOrVisitorType": "VISITOR", "assigneeId": me, "status": "ON_HOLD" })).await;
    let c = create(&app, json!({ "subject": "50% off_coupon", "channelId": "chat", "contactOrVisitorId": ann, "departmentAssigneeId": support })).await;

    assert_eq!(listed(&app, json!({})).await, vec![a, b, c]);
    assert_eq!(
        listed(&app, json!({ "status": ["ON_HOLD"] })).await,
        vec![b]
    );
    assert_eq!(
        listed(&app, json!({ "status": ["NEW", "ON_HOLD"] })).await,
        vec![a, b, c]
    );
    assert_eq!(listed(&app, json!({ "priority": ["HIGH"] })).await, vec![a]);
    assert_eq!(listed(&app, json!({ "assigneeId": me })).await, vec![b]);
    assert_eq!(
        listed(&app, json!({ "departmentAssigneeId": support })).await,
        vec![c]
    );
    assert_eq!(
        listed(&app, json!({ "channelId": "chat" })).await,
        vec![b, c]
    );
    assert_eq!(
        listed(&app, json!({ "contactOrVisitorId": ann })).await,
        vec![a, c]
    );
    assert_eq!(
        listed(&app, json!({ "contactOrVisitorType": "VISITOR" })).await,
        vec![b]
    );
    assert_eq!(listed(&app, json!({ "tagId": vip })).await, vec![a]);
    assert_eq!(
        listed(&app, json!({ "keywords": "REFUND" })).await,
        vec![a],
        "keywords ignore case"
    );
    assert_eq!(
        listed(&app, json!({ "keywords": "refu" })).await,
        vec![a],
        "a word's start finds it"
    );
    assert_eq!(
        listed(&app, json!({ "keywords": "login broken" })).await,
        vec![b],
        "every word must be there"
    );
    assert_eq!(
        listed(&app, json!({ "keywords": "login refund" })).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        listed(&app, json!({ "keywords": "50%" })).await,
        vec![c],
        "punctuation is not searched"
    );
    assert_eq!(listed(&app, json!({ "keywords": "coupon" })).await, vec![c]);
    assert_eq!(
        listed(&app, json!({ "keywords": "\"; DROP TABLE tickets; --" })).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        listed(&app, json!({ "keywords": "%%%" })).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        listed(&app, json!({ "keywords": "   " })).await,
        vec![a, b, c],
        "blank keywords do not filter"
    );
    assert_eq!(
        listed(&app, json!({ "tagId": vip, "channelId": "chat" })).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        listed(&app, json!({ "updatedSince": "2999-01-01T00:00:00Z" })).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        listed(&app, json!({ "updatedSince": "2000-01-01T00:00:00.000Z" })).await,
        vec![a, b, c]
    );
    let count = page(
        &app,
        json!({ "first": 1, "filter": { "channelId": "chat" } }),
    )
    .await["totalCount"]
        .clone();
    assert_eq!(count, 2, "totalCount counts the filtered list");
}

#[tokio::test]
async fn recycled_tickets_leave_the_default_list_and_are_listed_on_their_own() {
    let app = TestApp::spawn().await;
    let ids = tickets(&app, 3).await;
    app.graphql(
        "mutation($id: Int!) { recycleTicket(id: $id) { isInRecycleBin } }",
        json!({ "id": ids[1] }),
    )
    .await;
    assert_eq!(listed(&app, json!({})).await, vec![ids[0], ids[2]]);
    assert_eq!(
        listed(&app, json!({ "inRecycleBin": true })).await,
        vec![ids[1]]
    );
    app.graphql(
        "mutation($id: Int!) { restoreTicket(id: $id) { isInRecycleBin } }",
        json!({ "id": ids[1] }),
    )
    .await;
    assert_eq!(listed(&app, json!({})).await, ids);
}

#[tokio::test]
async fn a_view_filters_the_list_with_all_or_any_of_its_conditions() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let ann = fixtures::contact(&app.db, site, "Ann").await;
    let vip = vocabulary::tag(&app.db, site, "vip").await;
    let urgent_new = create(&app, json!({ "subject": "a", "channelId": "email", "contactOrVisitorId": ann, "priority": "URGENT" })).await;
    let urgent_held = create(&app, json!({ "subject": "b", "channelId": "email", "contactOrVisitorId": ann, "priority": "URGENT", "status": "ON_HOLD", "tagIds": [vip] })).await;
    let low_new = create(&app, json!({ "subject": "c", "channelId": "chat", "contactOrVisitorId": ann, "priority": "LOW" })).await;

    let all = vocabulary::view(
        &app.db,
        site,
        ConditionMetType::All,
        &[
            ("priority", "is", "urgent"),
            ("status", "isOneOf", "new,pendingInternal"),
        ],
    )
    .await;
    assert_eq!(
        listed(&app, json!({ "viewId": all })).await,
        vec![urgent_new]
    );
    let any = vocabulary::view(
        &app.db,
        site,
        ConditionMetType::Any,
        &[
            ("priority", "is", "LOW"),
            ("tagIds", "contains", &vip.to_string()),
        ],
    )
    .await;
    assert_eq!(
        listed(&app, json!({ "viewId": any })).await,
        vec![urgent_held, low_new]
    );
    let not_chat = vocabulary::view(
        &app.db,
        site,
        ConditionMetType::All,
        &[
            ("channelId", "isNot", "chat"),
            ("subject", "notContains", "B"),
        ],
    )
    .await;
    assert_eq!(
        listed(&app, json!({ "viewId": not_chat })).await,
        vec![urgent_new]
    );
    let recent = vocabulary::view(
        &app.db,
        site,
        ConditionMetType::All,
        &[
            ("createdTime", "isLessThan", "3600"),
            ("totalReplies", "is", "0"),
        ],
    )
    .await;
    assert_eq!(
        listed(&app, json!({ "viewId": recent })).await,
        vec![urgent_new, urgent_held, low_new]
    );
    let everything = vocabulary::view(&app.db, site, ConditionMetType::Any, &[]).await;
    assert_eq!(
        listed(&app, json!({ "viewId": everything })).await,
        vec![urgent_new, urgent_held, low_new]
    );

    // Another site's view does not exist for this caller.
    let (other, _) = app.other_site().await;
    let foreign = vocabulary::view(&app.db, other.site.id, ConditionMetType::All, &[]).await;
    let (_, error) = app
        .graphql_error(PAGE, json!({ "first": 5, "filter": { "viewId": foreign } }))
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
    let (_, error) = app
        .graphql_error(
            PAGE,
            json!({ "first": 5, "filter": { "viewId": Uuid::new_v4() } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn another_sites_tickets_are_never_listed() {
    let app = TestApp::spawn().await;
    tickets(&app, 3).await;
    let (_, other_token) = app.other_site().await;
    let (_, body) = app
        .graphql_with(Some(&other_token), PAGE, json!({ "first": 50 }))
        .await;
    assert_eq!(body["data"]["tickets"]["totalCount"], 0, "{body}");
    assert_eq!(body["data"]["tickets"]["edges"], json!([]));
}
