//! Counts kept until their site changes: the REST list's `total`, `totalCount`, unread counts.
//! Each test checks both that a repeated count runs no SQL and that every kind of change the
//! count depends on makes the next one fresh.

use deskgraph::entity::ConditionMetType;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, fixtures, vocabulary};
use crate::ticket_list::create;

const COUNTS: &str = "query($filter: TicketFilter) {
  unreadCount { allCount }
  tickets(first: 1, filter: $filter) { totalCount }
}";

async fn counts(app: &TestApp, filter: Value) -> (i64, i64) {
    let data = app.graphql(COUNTS, json!({ "filter": filter })).await;
    (
        data["unreadCount"]["allCount"].as_i64().unwrap(),
        data["tickets"]["totalCount"].as_i64().unwrap(),
    )
}

async fn rest_total(app: &TestApp, query: &str) -> i64 {
    let response = app
        .client
        .request(
            Method::GET,
            format!("{}/v4/ticketing/tickets?{query}", app.base),
        )
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["total"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

/// How many counting statements the server ran while `f` ran.
async fn counting_statements<F: Future<Output = T>, T>(app: &TestApp, f: F) -> (usize, T) {
    app.sql.start();
    let out = f.await;
    let sql = app.sql.stop();
    let n = sql.iter().filter(|s| s.contains("COUNT(")).count();
    (n, out)
}

async fn new_ticket(app: &TestApp, contact: Uuid, extra: Value) -> i64 {
    let mut input =
        json!({ "subject": "Parcel", "channelId": "email", "contactOrVisitorId": contact });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    create(app, input).await
}

#[tokio::test]
async fn a_repeated_count_runs_no_sql_until_a_ticket_of_the_site_changes() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let first = new_ticket(&app, contact, json!({})).await;
    new_ticket(&app, contact, json!({})).await;

    assert_eq!(counts(&app, json!({})).await, (2, 2));
    assert_eq!(rest_total(&app, "pageSize=1").await, 2);
    let (n, got) = counting_statements(&app, async {
        (
            counts(&app, json!({})).await,
            rest_total(&app, "pageSize=1").await,
        )
    })
    .await;
    assert_eq!(got, ((2, 2), 2));
    assert_eq!(n, 0, "the second time, every count is kept");

    // Another site's change leaves this site's counts kept.
    let (other, other_token) = app.other_site().await;
    let other_contact = fixtures::contact(&app.db, other.site.id, "Bo").await;
    let (_, created) = app
        .graphql_with(
            Some(&other_token),
            "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
            json!({ "i": { "subject": "Elsewhere", "channelId": "email", "contactOrVisitorId": other_contact } }),
        )
        .await;
    assert!(created["errors"].is_null(), "{created}");
    let (n, _) = counting_statements(&app, counts(&app, json!({}))).await;
    assert_eq!(
        n, 0,
        "another site's change does not touch this site's counts"
    );

    // Each kind of change is seen at once by the next count on the same server.
    app.graphql(
        "mutation($id: Int!) { markTicketRead(id: $id) { id } }",
        json!({ "id": first }),
    )
    .await;
    assert_eq!(counts(&app, json!({})).await, (1, 2));
    new_ticket(&app, contact, json!({})).await;
    assert_eq!(counts(&app, json!({})).await, (2, 3));
    assert_eq!(rest_total(&app, "pageSize=1").await, 3);
    app.graphql(
        "mutation($id: Int!) { recycleTicket(id: $id) { id } }",
        json!({ "id": first }),
    )
    .await;
    assert_eq!(counts(&app, json!({})).await, (2, 2));
    assert_eq!(rest_total(&app, "pageSize=1").await, 2);
}

#[tokio::test]
async fn deleting_an_agent_or_a_tag_refreshes_the_counts_that_depended_on_them() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let agent = fixtures::agent(&app.db, app.site.site.id, "Cy").await;
    let tag = vocabulary::tag(&app.db, app.site.site.id, "vip").await;
    for _ in 0..2 {
        new_ticket(
            &app,
            contact,
            json!({ "assigneeId": agent, "tagIds": [tag] }),
        )
        .await;
    }
    new_ticket(&app, contact, json!({})).await;

    let by_agent = json!({ "assigneeId": agent });
    let by_tag = json!({ "tagId": tag });
    assert_eq!(counts(&app, by_agent.clone()).await.1, 2);
    assert_eq!(counts(&app, by_tag.clone()).await.1, 2);

    // Deleting the agent unassigns their tickets.
    app.graphql(
        "mutation($id: UUID!) { deleteAgent(id: $id) { id } }",
        json!({ "id": agent }),
    )
    .await;
    assert_eq!(counts(&app, by_agent).await.1, 0);
    assert_eq!(counts(&app, by_tag.clone()).await.1, 2);

    app.graphql(
        "mutation($id: UUID!) { deleteTag(id: $id) { id } }",
        json!({ "id": tag }),
    )
    .await;
    assert_eq!(counts(&app, by_tag).await.1, 0);
}

/// Two servers on one database (PostgreSQL): a count kept by one follows a change made through
/// the other, as soon as the change's notification arrives. SQLite is one process by design;
/// there both roles fall to one server.
#[tokio::test]
async fn a_count_kept_by_one_server_follows_a_change_made_through_another() {
    use crate::harness::TestDb;
    use crate::process::{deskgraph, start};
    use std::time::{Duration, Instant};

    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let reader = start(deskgraph(&db, dir.path()), true);
    let token = reader.token.clone().unwrap();
    let writer = db
        .is_postgres()
        .then(|| start(deskgraph(&db, dir.path()), true));
    let writer_base = writer.as_ref().map_or(&reader.base, |s| &s.base);
    let client = reqwest::Client::new();
    let post = |base: &str, query: &'static str| {
        client
            .post(format!("{base}/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
    };
    let unread = || async {
        let body: Value = post(&reader.base, "{ unreadCount { allCount } }")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["data"]["unreadCount"]["allCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{body}"))
    };

    let body = post(&reader.base, "mutation { markTicketUnread(id: 1) { id } }")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("errors"), "{body}");
    let before = unread().await;
    assert!(before > 0, "ticket 1 at least is unread");
    assert_eq!(unread().await, before, "kept");
    let body = post(
        writer_base,
        "mutation { markTicketRead(id: 1) { isReadByAgent } }",
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(body.contains("\"isReadByAgent\":true"), "{body}");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = unread().await;
        if now == before - 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reader still counts {now} unread, not {}",
            before - 1
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn unread_counts_over_many_views_load_them_in_two_statements_in_the_order_asked() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Ann").await;
    new_ticket(&app, contact, json!({ "priority": "URGENT" })).await;
    new_ticket(&app, contact, json!({})).await;
    let urgent = vocabulary::view(
        &app.db,
        site,
        ConditionMetType::All,
        &[("priority", "is", "urgent")],
    )
    .await;
    let everything = vocabulary::view(&app.db, site, ConditionMetType::All, &[]).await;
    let views = [everything, urgent, everything, urgent, urgent];
    let query =
        "query($v: [UUID!]) { unreadCount(viewIds: $v) { unreadCounts { viewId unreadCount } } }";

    app.sql.start();
    let data = app.graphql(query, json!({ "v": views })).await;
    let sql = app.sql.stop();
    let got: Vec<(String, i64)> = data["unreadCount"]["unreadCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["viewId"].as_str().unwrap().to_owned(),
                v["unreadCount"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, i64)> = views
        .iter()
        .map(|v| (v.to_string(), if *v == urgent { 1 } else { 2 }))
        .collect();
    assert_eq!(got, want);
    let loading_views = sql
        .iter()
        .filter(|s| s.contains("FROM \"views\"") || s.contains("FROM \"view_conditions\""))
        .count();
    assert_eq!(loading_views, 2, "{sql:#?}");

    // One view of the list that the caller may not use fails the whole request, naming it.
    let unknown = Uuid::new_v4();
    let (_, body) = app
        .graphql_with(Some(&app.token), query, json!({ "v": [urgent, unknown] }))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&unknown.to_string()), "{body}");
}
