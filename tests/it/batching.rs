//! The inbox in one round trip costs a fixed number of SQL statements, however many tickets it
//! shows: relations go through per-request DataLoaders, never one query per ticket.

use serde_json::json;

use crate::harness::{TestApp, fixtures, vocabulary};
use crate::ticket_list::create;

const INBOX: &str = "query($n: Int!) {
  tickets(first: $n) {
    edges { node {
      id subject status priority createdTime lastUpdatedTime lastRepliedTime
      tags { id name }
      assignee { __typename ... on Agent { id name } ... on Chatbot { id name } }
      contactOrVisitor { __typename ... on Contact { id name } ... on Visitor { id name } }
      lastMessage { id body time sentByType }
      draft { body lastUpdatedTime }
    } }
  }
}";

/// `n` tickets with everything the inbox shows: tags, agent or bot assignees, contacts and
/// visitors, messages, and drafts on some.
async fn busy_site(app: &TestApp, n: usize) {
    let site = app.site.site.id;
    let tags = [
        vocabulary::tag(&app.db, site, "vip").await,
        vocabulary::tag(&app.db, site, "bug").await,
    ];
    let bot = fixtures::chatbot(&app.db, site, "Helper").await;
    for i in 0..n {
        let (who, kind) = if i % 2 == 0 {
            (
                fixtures::contact(&app.db, site, &format!("Contact {i}")).await,
                "CONTACT",
            )
        } else {
            (
                fixtures::visitor(&app.db, site, &format!("Visitor {i}")).await,
                "VISITOR",
            )
        };
        let (assignee, assignee_type) = if i % 3 == 0 {
            (bot, "CHATBOT")
        } else {
            (app.site.admin.id, "AGENT")
        };
        let id = create(
            app,
            json!({
                "subject": format!("Ticket {i}"), "channelId": "email", "contactOrVisitorId": who,
                "contactOrVisitorType": kind, "assigneeId": assignee, "assigneeType": assignee_type,
                "tagIds": [tags[i % 2]],
                "messages": [{ "body": "data:text/plain;base64,SGVsbG8=", "sentById": who, "sentByType": kind }],
            }),
        )
        .await;
        if i % 4 == 0 {
            app.graphql(
                "mutation($id: Int!) { saveDraft(ticketId: $id, input: { body: \"draft\" }) { ticketId } }",
                json!({ "id": id }),
            )
            .await;
        }
    }
}

async fn statements_for_inbox(app: &TestApp, n: usize) -> Vec<String> {
    // The token's agent was just checked, as in any busy console: the count is the inbox's own.
    app.graphql("{ __typename }", json!({})).await;
    app.sql.start();
    let data = app.graphql(INBOX, json!({ "n": n })).await;
    let statements = app.sql.stop();
    let edges = data["tickets"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), n);
    for edge in edges {
        let t = &edge["node"];
        assert_eq!(t["tags"].as_array().unwrap().len(), 1, "{t}");
        assert!(t["assignee"]["name"].is_string(), "{t}");
        assert!(t["contactOrVisitor"]["name"].is_string(), "{t}");
        assert_eq!(
            t["lastMessage"]["body"], "data:text/plain;base64,SGVsbG8=",
            "{t}"
        );
    }
    statements
}

#[tokio::test]
async fn the_inbox_costs_the_same_few_statements_for_5_tickets_and_for_50() {
    let app = TestApp::spawn().await;
    busy_site(&app, 50).await;
    let five = statements_for_inbox(&app, 5).await;
    let fifty = statements_for_inbox(&app, 50).await;
    assert_eq!(
        five.len(),
        fifty.len(),
        "5 tickets: {five:#?}\n50 tickets: {fifty:#?}"
    );
    assert!(fifty.len() <= 8, "{} statements: {fifty:#?}", fifty.len());
    // The log sees every statement, those of the page and of each relation's batch alike.
    for table in ["tickets", "ticket_tags", "agents", "messages"] {
        let from = format!("FROM \"{table}\"");
        assert!(
            fifty.iter().any(|s| s.contains(&from)),
            "no statement reads {table}: {fifty:#?}"
        );
    }
}
