//! Tag names and agent emails are unique within a site, case ignored, even when two creates
//! race: the database's own index (on `lower(...)`) settles it, and the loser gets a CONFLICT
//! naming the field.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::TestApp;

/// Sends the same mutation with each of `values` as `$v`, all at once; returns the answers.
async fn race(app: &TestApp, query: &'static str, values: &[String]) -> Vec<Value> {
    let attempts: Vec<_> = values
        .iter()
        .map(|v| {
            let send = app
                .client
                .post(format!("{}/graphql", app.base))
                .bearer_auth(&app.token)
                .json(&json!({ "query": query, "variables": { "v": v } }))
                .send();
            tokio::spawn(async move {
                let response = send.await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                response.json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for a in attempts {
        answers.push(a.await.unwrap());
    }
    answers
}

fn assert_one_winner(answers: &[Value], field: &str) {
    let winners = answers.iter().filter(|a| a.get("errors").is_none()).count();
    assert_eq!(winners, 1, "{answers:?}");
    for lost in answers.iter().filter(|a| a.get("errors").is_some()) {
        assert_eq!(
            lost["errors"][0]["extensions"]["code"], "CONFLICT",
            "{lost}"
        );
        assert_eq!(lost["errors"][0]["extensions"]["field"], field, "{lost}");
    }
}

#[tokio::test]
async fn racing_creates_of_one_tag_name_in_any_case_make_one_tag() {
    let app = TestApp::spawn().await;
    let names: Vec<String> = ["Urgent", "URGENT", "urgent", "uRGENT", "UrGeNt", "urgenT"]
        .map(String::from)
        .to_vec();
    let answers = race(
        &app,
        "mutation($v: String!) { createTag(input: { name: $v }) { id } }",
        &names,
    )
    .await;
    assert_one_winner(&answers, "name");
    assert_eq!(
        app.graphql("{ tags { id } }", json!({})).await["tags"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn racing_creates_of_one_agent_email_in_any_case_make_one_agent() {
    let app = TestApp::spawn().await;
    let emails: Vec<String> = [
        "bo@example.com",
        "BO@example.com",
        "Bo@Example.com",
        "bO@EXAMPLE.COM",
    ]
    .map(String::from)
    .to_vec();
    let answers = race(
        &app,
        "mutation($v: String!) { createAgent(input: { name: \"Bo\", email: $v }) { id } }",
        &emails,
    )
    .await;
    assert_one_winner(&answers, "email");
    let agents = app.graphql("{ agents { email } }", json!({})).await;
    let bos = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["email"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("bo@example.com")
        })
        .count();
    assert_eq!(bos, 1);
}
