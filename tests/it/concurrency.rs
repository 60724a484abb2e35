//! Many writers on the same tickets at once lose nothing.

use serde_json::json;

use crate::harness::{TestApp, fixtures};
use crate::ticket_list::create;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replies_updates_and_merges_add_up() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let input =
        |s: &str| json!({ "subject": s, "channelId": "email", "contactOrVisitorId": contact });
    let target = create(&app, input("target")).await;
    let mut sources = Vec::new();
    for i in 0..4 {
        let id = create(&app, input(&format!("source {i}"))).await;
        app.graphql(
            "mutation($id: Int!) { addMessage(ticketId: $id, input: { body: \"from a source\", sentByType: CONTACT }) { id } }",
            json!({ "id": id }),
        )
        .await;
        sources.push(id);
    }

    let (writers, replies_each) = (8, 5);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for r in 0..replies_each {
                let kind = if (w + r) % 2 == 0 { "CONTACT" } else { "AGENT" };
                app.graphql(
                    "mutation($id: Int!, $b: String!, $k: ParticipantType!) { addMessage(ticketId: $id, input: { body: $b, sentByType: $k }) { id } }",
                    json!({ "id": target, "b": format!("writer {w} reply {r}"), "k": kind }),
                )
                .await;
                app.graphql(
                    "mutation($id: Int!, $p: Priority!) { updateTicket(id: $id, input: { priority: $p }) { id } }",
                    json!({ "id": target, "p": if r % 2 == 0 { "HIGH" } else { "LOW" } }),
                )
                .await;
            }
        }));
    }
    for source in sources.clone() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.graphql(
                "mutation($t: Int!, $s: Int!) { mergeTicket(targetId: $t, sourceId: $s) { id } }",
                json!({ "t": target, "s": source }),
            )
            .await;
        }));
    }
    for t in tasks {
        t.await.expect("no writer failed");
    }

    let expected = writers * replies_each + sources.len();
    let t = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { totalReplies responseCount messages(first: 1) { totalCount } } }",
            json!({ "id": target }),
        )
        .await["ticket"]
        .clone();
    assert_eq!(t["messages"]["totalCount"], expected);
    assert_eq!(
        t["totalReplies"], expected,
        "every public message counted once: {t}"
    );
    let agent_replies = (0..writers)
        .flat_map(|w| (0..replies_each).map(move |r| (w + r) % 2))
        .filter(|k| *k == 1)
        .count();
    assert_eq!(t["responseCount"], agent_replies);
    for source in sources {
        let s = app
            .graphql(
                "query($id: Int!) { ticket(id: $id) { mergedToTargetId totalReplies } }",
                json!({ "id": source }),
            )
            .await;
        assert_eq!(s["ticket"]["mergedToTargetId"], target);
    }
}
