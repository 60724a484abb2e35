//! Site isolation, as a matrix: every Query and Mutation field of the schema and every REST
//! route is called with a second site's token against the first site's records. Another
//! site's ids answer NOT_FOUND (404), references to them are refused, lists never show them,
//! and the owner's data reads back exactly as before. The matrix is checked against the schema
//! and the README's route table, so a new field or route without a case fails here.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, fixtures};

/// Every string of the owner's records carries this, so a leak of any of them shows.
const MARK: &str = "ALPHA";

/// The owner's records (site A), and the intruder's own ticket and tag (site B).
struct World {
    ticket: i64,
    other_ticket: i64,
    agent: Uuid,
    department: Uuid,
    chatbot: Uuid,
    contact: Uuid,
    visitor: Uuid,
    tag: Uuid,
    view: Uuid,
    b_ticket: i64,
    b_tag: Uuid,
    b_contact: Uuid,
    b_token: String,
}

impl World {
    /// Every id of the owner's records, as text: none may appear in the intruder's answers.
    fn owner_ids(&self) -> Vec<String> {
        [
            self.agent,
            self.department,
            self.chatbot,
            self.contact,
            self.visitor,
            self.tag,
            self.view,
        ]
        .iter()
        .map(Uuid::to_string)
        .collect()
    }
}

async fn setup(app: &TestApp) -> World {
    let g = |q: &'static str, v: Value| async move { app.graphql(q, v).await };
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "ALPHA Ann").await;
    let visitor = fixtures::visitor(&app.db, site, "ALPHA Vic").await;
    let agent = g(
        "mutation { createAgent(input: { name: \"ALPHA Agent\", email: \"alpha.agent@example.com\" }) { id } }",
        json!({}),
    )
    .await["createAgent"]["id"]
        .clone();
    let department = g(
        "mutation { createDepartment(input: { name: \"ALPHA Dept\" }) { id } }",
        json!({}),
    )
    .await["createDepartment"]["id"]
        .clone();
    let chatbot = g(
        "mutation { createChatbot(input: { name: \"ALPHA Bot\" }) { id } }",
        json!({}),
    )
    .await["createChatbot"]["id"]
        .clone();
    let tag = g(
        "mutation { createTag(input: { name: \"ALPHA tag\" }) { id } }",
        json!({}),
    )
    .await["createTag"]["id"]
        .clone();
    let view = g(
        "mutation { createView(input: { name: \"ALPHA view\", conditions: [{ fieldName: \"status\", operator: IS_NOT, value: \"resolved\" }] }) { id } }",
        json!({}),
    )
    .await["createView"]["id"]
        .clone();
    let create = "mutation($in: CreateTicketInput!) { createTicket(input: $in, idempotencyKey: \"shared-key\") { id } }";
    let ticket = g(
        create,
        json!({ "in": { "subject": "ALPHA printer", "channelId": "email", "contactOrVisitorId": contact,
                        "tagIds": [tag], "assigneeId": agent, "departmentAssigneeId": department,
                        "messages": [{ "body": "ALPHA help", "sentById": contact, "sentByType": "CONTACT" }] } }),
    )
    .await["createTicket"]["id"]
        .as_i64()
        .unwrap();
    let other_ticket = g(
        "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
        json!({ "in": { "subject": "ALPHA second", "channelId": "chat", "contactOrVisitorId": visitor, "contactOrVisitorType": "VISITOR" } }),
    )
    .await["createTicket"]["id"]
        .as_i64()
        .unwrap();
    g(
        "mutation($t: Int!, $a: UUID!) { addNote(ticketId: $t, input: { body: \"ALPHA note\", mentionedAgentIds: [$a] }) { id }
          saveDraft(ticketId: $t, input: { body: \"ALPHA draft\" }) { ticketId } }",
        json!({ "t": ticket, "a": agent }),
    )
    .await;

    let (b_site, b_token) = app.other_site().await;
    let b_contact = fixtures::contact(&app.db, b_site.site.id, "Beta Bob").await;
    let b = |q: &'static str, v: Value| {
        let token = b_token.clone();
        async move {
            let (status, body) = app.graphql_with(Some(&token), q, v).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
            body["data"].clone()
        }
    };
    let b_tag = b(
        "mutation { createTag(input: { name: \"beta tag\" }) { id } }",
        json!({}),
    )
    .await["createTag"]["id"]
        .clone();
    let b_ticket = b(
        "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
        json!({ "in": { "subject": "beta", "channelId": "email", "contactOrVisitorId": b_contact } }),
    )
    .await["createTicket"]["id"]
        .as_i64()
        .unwrap();
    let uuid = |v: Value| Uuid::parse_str(v.as_str().unwrap()).unwrap();
    World {
        ticket,
        other_ticket,
        agent: uuid(agent),
        department: uuid(department),
        chatbot: uuid(chatbot),
        contact,
        visitor,
        tag: uuid(tag),
        view: uuid(view),
        b_ticket,
        b_tag: uuid(b_tag),
        b_contact,
        b_token,
    }
}

/// Everything the owner can see, to compare before and after the intruder's attempts.
async fn snapshot(app: &TestApp) -> Value {
    app.graphql(
        "fragment T on Ticket {
           id subject status priority version lastUpdatedTime isReadByAgent isInRecycleBin
           mergedToTargetId assigneeId departmentAssigneeId contactLanguage tagIds ifHasDraft
           draft { body } messages(first: 100) { nodes { id body isInternal } }
           noteMentions { id isReadByAgent } eventLogs { id type }
         }
         query {
           live: tickets(first: 100, filter: { includeMerged: true }) { nodes { ...T } }
           bin: tickets(first: 100, filter: { includeMerged: true, inRecycleBin: true }) { nodes { ...T } }
           agents { id name email role isActive language }
           departments { id name description }
           chatbots { id name isActive }
           contacts(first: 100) { nodes { id name email phone language } }
           visitors(first: 100) { nodes { id name email language } }
           tags { id name }
           views { id name isPrivate conditionMetType lastUpdatedTime }
           unreadCount { allCount }
         }",
        json!({}),
    )
    .await
}

/// What a case must get.
enum Expect {
    /// An error with this code (NOT_FOUND for another site's ids, BAD_USER_INPUT for
    /// references to them in an input).
    Error(&'static str),
    /// An answer that holds none of the owner's ids or marked strings.
    Clean,
}

struct Case {
    /// The schema field this case calls.
    field: &'static str,
    query: &'static str,
    vars: Value,
    expect: Expect,
}

fn case(field: &'static str, query: &'static str, vars: Value, expect: Expect) -> Case {
    Case {
        field,
        query,
        vars,
        expect,
    }
}

fn graphql_cases(w: &World) -> Vec<Case> {
    use Expect::*;
    const NF: Expect = Error("NOT_FOUND");
    const REFUSED: Expect = Error("BAD_USER_INPUT");
    let (t, bt) = (w.ticket, w.b_ticket);
    vec![
        // ---- queries ----
        case(
            "ticket",
            "query($id: Int!) { ticket(id: $id) { id subject } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "tickets",
            "{ tickets(first: 100, filter: { includeMerged: true }) { totalCount nodes { id subject tagIds } } }",
            json!({}),
            Clean,
        ),
        case(
            "tickets",
            "{ tickets(first: 100, filter: { inRecycleBin: true }) { nodes { id subject } } }",
            json!({}),
            Clean,
        ),
        case(
            "tickets",
            "query($tag: UUID!) { tickets(filter: { tagId: $tag }) { totalCount nodes { id subject } } }",
            json!({ "tag": w.tag }),
            Clean,
        ),
        case(
            "tickets",
            "query($c: UUID!) { tickets(filter: { contactOrVisitorId: $c }) { totalCount nodes { id subject } } }",
            json!({ "c": w.contact }),
            Clean,
        ),
        case(
            "tickets",
            "{ tickets(filter: { keywords: \"alpha\" }) { totalCount nodes { id subject } } }",
            json!({}),
            Clean,
        ),
        case(
            "tickets",
            "query($v: UUID!) { tickets(filter: { viewId: $v }) { totalCount } }",
            json!({ "v": w.view }),
            NF,
        ),
        case(
            "ticketPage",
            "{ ticketPage(pageSize: 100) { total tickets { id subject messages { nodes { body } } } } }",
            json!({}),
            Clean,
        ),
        case(
            "ticketPage",
            "query($a: UUID!) { ticketPage(filter: { assigneeId: $a }) { total tickets { id } } }",
            json!({ "a": w.agent }),
            Clean,
        ),
        case(
            "unreadCount",
            "{ unreadCount { allCount unreadCounts { viewId } } }",
            json!({}),
            Clean,
        ),
        case(
            "unreadCount",
            "query($v: UUID!) { unreadCount(viewIds: [$v]) { allCount } }",
            json!({ "v": w.view }),
            NF,
        ),
        case("agents", "{ agents { id name email } }", json!({}), Clean),
        case(
            "agent",
            "query($id: UUID!) { agent(id: $id) { id name } }",
            json!({ "id": w.agent }),
            NF,
        ),
        case(
            "departments",
            "{ departments { id name } }",
            json!({}),
            Clean,
        ),
        case(
            "department",
            "query($id: UUID!) { department(id: $id) { id } }",
            json!({ "id": w.department }),
            NF,
        ),
        case("chatbots", "{ chatbots { id name } }", json!({}), Clean),
        case(
            "chatbot",
            "query($id: UUID!) { chatbot(id: $id) { id } }",
            json!({ "id": w.chatbot }),
            NF,
        ),
        case(
            "contacts",
            "{ contacts(first: 100) { totalCount nodes { id name email } } }",
            json!({}),
            Clean,
        ),
        case(
            "contacts",
            "{ contacts(search: \"alpha\") { totalCount nodes { id name } } }",
            json!({}),
            Clean,
        ),
        case(
            "contact",
            "query($id: UUID!) { contact(id: $id) { id } }",
            json!({ "id": w.contact }),
            NF,
        ),
        case(
            "visitors",
            "{ visitors(first: 100) { totalCount nodes { id name } } }",
            json!({}),
            Clean,
        ),
        case(
            "visitor",
            "query($id: UUID!) { visitor(id: $id) { id } }",
            json!({ "id": w.visitor }),
            NF,
        ),
        case("tags", "{ tags { id name } }", json!({}), Clean),
        case(
            "tag",
            "query($id: UUID!) { tag(id: $id) { id } }",
            json!({ "id": w.tag }),
            NF,
        ),
        case("views", "{ views { id name } }", json!({}), Clean),
        case(
            "view",
            "query($id: UUID!) { view(id: $id) { id } }",
            json!({ "id": w.view }),
            NF,
        ),
        // ---- tickets ----
        case(
            "createTicket",
            "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
            json!({ "in": { "subject": "x", "channelId": "email", "contactOrVisitorId": w.contact } }),
            REFUSED,
        ),
        case(
            "createTicket",
            "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
            json!({ "in": { "subject": "x", "channelId": "email", "contactOrVisitorId": w.b_contact, "tagIds": [w.tag] } }),
            REFUSED,
        ),
        case(
            "createTicket",
            "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
            json!({ "in": { "subject": "x", "channelId": "email", "contactOrVisitorId": w.b_contact, "assigneeId": w.agent } }),
            REFUSED,
        ),
        case(
            "createTicket",
            "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
            json!({ "in": { "subject": "x", "channelId": "email", "contactOrVisitorId": w.b_contact, "departmentAssigneeId": w.department } }),
            REFUSED,
        ),
        // The owner's idempotency key is the owner's: the same key here opens this site's ticket.
        case(
            "createTicket",
            "mutation($in: CreateTicketInput!) { createTicket(input: $in, idempotencyKey: \"shared-key\") { id subject } }",
            json!({ "in": { "subject": "beta own", "channelId": "email", "contactOrVisitorId": w.b_contact } }),
            Clean,
        ),
        case(
            "updateTicket",
            "mutation($id: Int!) { updateTicket(id: $id, input: { subject: \"pwned\" }) { id } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "updateTicket",
            "mutation($id: Int!, $c: UUID!) { updateTicket(id: $id, input: { contactOrVisitorId: $c }) { id } }",
            json!({ "id": bt, "c": w.contact }),
            REFUSED,
        ),
        case(
            "updateTicket",
            "mutation($id: Int!, $tag: UUID!) { updateTicket(id: $id, input: { tagIds: [$tag] }) { id } }",
            json!({ "id": bt, "tag": w.tag }),
            REFUSED,
        ),
        case(
            "deleteTicket",
            "mutation($id: Int!) { deleteTicket(id: $id) { id } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "recycleTicket",
            "mutation($id: Int!) { recycleTicket(id: $id) { id } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "restoreTicket",
            "mutation($id: Int!) { restoreTicket(id: $id) { id } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "mergeTicket",
            "mutation($a: Int!, $b: Int!) { mergeTicket(targetId: $a, sourceId: $b) { id } }",
            json!({ "a": bt, "b": t }),
            NF,
        ),
        case(
            "mergeTicket",
            "mutation($a: Int!, $b: Int!) { mergeTicket(targetId: $a, sourceId: $b) { id } }",
            json!({ "a": t, "b": bt }),
            NF,
        ),
        case(
            "markTicketRead",
            "mutation($id: Int!) { markTicketRead(id: $id) { id } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "markTicketUnread",
            "mutation($id: Int!) { markTicketUnread(id: $id) { id } }",
            json!({ "id": w.other_ticket }),
            NF,
        ),
        case(
            "addTicketTags",
            "mutation($id: Int!, $tag: UUID!) { addTicketTags(id: $id, tagIds: [$tag]) { id } }",
            json!({ "id": t, "tag": w.b_tag }),
            NF,
        ),
        case(
            "addTicketTags",
            "mutation($id: Int!, $tag: UUID!) { addTicketTags(id: $id, tagIds: [$tag]) { id } }",
            json!({ "id": bt, "tag": w.tag }),
            REFUSED,
        ),
        case(
            "removeTicketTags",
            "mutation($id: Int!, $tag: UUID!) { removeTicketTags(id: $id, tagIds: [$tag]) { id } }",
            json!({ "id": t, "tag": w.tag }),
            NF,
        ),
        case(
            "detectVisitorLanguage",
            "mutation($id: Int!) { detectVisitorLanguage(id: $id) { visitorLanguage } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "previewMessageTranslation",
            "mutation($id: Int!) { previewMessageTranslation(id: $id, text: \"hi\") { translatedText } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "previewMessageTranslationForNewTickets",
            "mutation($id: Int!) { previewMessageTranslationForNewTickets(text: \"hi\", ticketId: $id) { translatedText } }",
            json!({ "id": t }),
            NF,
        ),
        // ---- conversation ----
        case(
            "addMessage",
            "mutation($id: Int!) { addMessage(ticketId: $id, input: { body: \"pwned\" }) { id } }",
            json!({ "id": t }),
            NF,
        ),
        // A message's sender is kept as the channel gave it (it may name someone deskgraph never
        // held); naming the owner's contact stores an opaque id and reveals nothing.
        case(
            "addMessage",
            "mutation($id: Int!, $c: UUID!) { addMessage(ticketId: $id, input: { body: \"x\", sentById: $c, sentByType: CONTACT }) { id body } }",
            json!({ "id": bt, "c": w.contact }),
            Clean,
        ),
        case(
            "addNote",
            "mutation($id: Int!) { addNote(ticketId: $id, input: { body: \"pwned\" }) { id } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "addNote",
            "mutation($id: Int!, $a: UUID!) { addNote(ticketId: $id, input: { body: \"x\", mentionedAgentIds: [$a] }) { id } }",
            json!({ "id": bt, "a": w.agent }),
            REFUSED,
        ),
        case(
            "saveDraft",
            "mutation($id: Int!) { saveDraft(ticketId: $id, input: { body: \"pwned\" }) { ticketId } }",
            json!({ "id": t }),
            NF,
        ),
        case(
            "discardDraft",
            "mutation($id: Int!) { discardDraft(ticketId: $id) { id } }",
            json!({ "id": t }),
            NF,
        ),
        // ---- directory ----
        // Names and emails are unique per site: the owner's do not block this site's.
        case(
            "createAgent",
            "mutation { createAgent(input: { name: \"b\", email: \"ALPHA.AGENT@example.com\" }) { id } }",
            json!({}),
            Clean,
        ),
        case(
            "updateAgent",
            "mutation($id: UUID!) { updateAgent(id: $id, input: { name: \"pwned\" }) { id } }",
            json!({ "id": w.agent }),
            NF,
        ),
        case(
            "updateAgent",
            "mutation($id: UUID!) { updateAgent(id: $id, input: { isActive: false }) { id } }",
            json!({ "id": w.agent }),
            NF,
        ),
        case(
            "deleteAgent",
            "mutation($id: UUID!) { deleteAgent(id: $id) { id } }",
            json!({ "id": w.agent }),
            NF,
        ),
        case(
            "createDepartment",
            "mutation { createDepartment(input: { name: \"b dept\" }) { id name } }",
            json!({}),
            Clean,
        ),
        case(
            "updateDepartment",
            "mutation($id: UUID!) { updateDepartment(id: $id, input: { name: \"pwned\" }) { id } }",
            json!({ "id": w.department }),
            NF,
        ),
        case(
            "deleteDepartment",
            "mutation($id: UUID!) { deleteDepartment(id: $id) { id } }",
            json!({ "id": w.department }),
            NF,
        ),
        case(
            "createChatbot",
            "mutation { createChatbot(input: { name: \"b bot\" }) { id name } }",
            json!({}),
            Clean,
        ),
        case(
            "updateChatbot",
            "mutation($id: UUID!) { updateChatbot(id: $id, input: { name: \"pwned\" }) { id } }",
            json!({ "id": w.chatbot }),
            NF,
        ),
        case(
            "deleteChatbot",
            "mutation($id: UUID!) { deleteChatbot(id: $id) { id } }",
            json!({ "id": w.chatbot }),
            NF,
        ),
        case(
            "createContact",
            "mutation { createContact(input: { name: \"b contact\", email: \"alpha.ann@example.com\" }) { id } }",
            json!({}),
            Clean,
        ),
        case(
            "updateContact",
            "mutation($id: UUID!) { updateContact(id: $id, input: { name: \"pwned\" }) { id } }",
            json!({ "id": w.contact }),
            NF,
        ),
        case(
            "deleteContact",
            "mutation($id: UUID!) { deleteContact(id: $id) { id } }",
            json!({ "id": w.contact }),
            NF,
        ),
        case(
            "createVisitor",
            "mutation { createVisitor(input: { name: \"b visitor\" }) { id name } }",
            json!({}),
            Clean,
        ),
        case(
            "updateVisitor",
            "mutation($id: UUID!) { updateVisitor(id: $id, input: { name: \"pwned\" }) { id } }",
            json!({ "id": w.visitor }),
            NF,
        ),
        case(
            "deleteVisitor",
            "mutation($id: UUID!) { deleteVisitor(id: $id) { id } }",
            json!({ "id": w.visitor }),
            NF,
        ),
        case(
            "createTag",
            "mutation { createTag(input: { name: \"alpha TAG\" }) { id } }",
            json!({}),
            Clean,
        ),
        case(
            "updateTag",
            "mutation($id: UUID!) { updateTag(id: $id, input: { name: \"pwned\" }) { id } }",
            json!({ "id": w.tag }),
            NF,
        ),
        case(
            "deleteTag",
            "mutation($id: UUID!) { deleteTag(id: $id) { id } }",
            json!({ "id": w.tag }),
            NF,
        ),
        case(
            "createView",
            "mutation { createView(input: { name: \"b view\" }) { id name } }",
            json!({}),
            Clean,
        ),
        case(
            "updateView",
            "mutation($id: UUID!) { updateView(id: $id, input: { name: \"pwned\" }) { id } }",
            json!({ "id": w.view }),
            NF,
        ),
        case(
            "deleteView",
            "mutation($id: UUID!) { deleteView(id: $id) { id } }",
            json!({ "id": w.view }),
            NF,
        ),
    ]
}

/// The answer holds nothing of the owner's: no id, no marked string, no owner ticket id.
/// Ids the request itself sent may be echoed (`view ... not found`); `what` holds the request.
fn assert_clean(w: &World, what: &str, body: &Value) {
    let text = body.to_string();
    assert!(
        !text.to_uppercase().contains(MARK),
        "{what}: leaks a marked string: {body}"
    );
    for id in w
        .owner_ids()
        .into_iter()
        .filter(|id| !what.contains(id.as_str()))
    {
        assert!(!text.contains(&id), "{what}: leaks {id}: {body}");
    }
    for ticket in [w.ticket, w.other_ticket] {
        let leaked = [format!("\"id\":{ticket},"), format!("\"id\":{ticket}}}")];
        assert!(
            !leaked.iter().any(|l| text.contains(l.as_str())),
            "{what}: leaks ticket {ticket}: {body}"
        );
    }
}

async fn schema_fields(app: &TestApp) -> BTreeSet<String> {
    let data = app
        .graphql(
            "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }",
            json!({}),
        )
        .await;
    ["queryType", "mutationType"]
        .iter()
        .flat_map(|t| data["__schema"][t]["fields"].as_array().unwrap().clone())
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The snapshot reads everything the owner can see in one document, far past the complexity a
/// console needs; the limit is not what these tests are about.
async fn spawn_for_snapshots() -> TestApp {
    TestApp::spawn_with(|c| c.graphql.graphql_max_complexity = 1_000_000).await
}

#[tokio::test]
async fn another_sites_token_reaches_nothing_through_any_graphql_field() {
    let app = spawn_for_snapshots().await;
    let w = setup(&app).await;
    let before = snapshot(&app).await;
    assert!(before.to_string().contains("ALPHA draft"), "{before}");

    let cases = graphql_cases(&w);
    let covered: BTreeSet<String> = cases.iter().map(|c| c.field.to_owned()).collect();
    let schema = schema_fields(&app).await;
    let missing: Vec<_> = schema.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "fields without an isolation case: {missing:?}"
    );
    let unknown: Vec<_> = covered.difference(&schema).collect();
    assert!(unknown.is_empty(), "cases for no field: {unknown:?}");

    for c in &cases {
        assert!(
            c.query.contains(&format!("{}(", c.field))
                || c.query.contains(&format!("{} {{", c.field)),
            "the case for {} does not call it: {}",
            c.field,
            c.query
        );
        let (status, body) = app
            .graphql_with(Some(&w.b_token), c.query, c.vars.clone())
            .await;
        let what = format!("{} {}", c.field, c.vars);
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        match c.expect {
            Expect::Error(code) => {
                assert_eq!(
                    body["errors"][0]["extensions"]["code"], code,
                    "{what}: {body}"
                );
                assert!(body["data"].is_null(), "{what}: {body}");
            }
            Expect::Clean => {
                assert!(body.get("errors").is_none(), "{what}: {body}");
            }
        }
        assert_clean(&w, &what, &body);
    }

    assert_eq!(snapshot(&app).await, before, "the owner's data changed");
}

#[tokio::test]
async fn relations_of_a_ticket_never_resolve_to_another_sites_records() {
    use deskgraph::entity::{AssigneeType, ParticipantType, tickets};
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

    let app = TestApp::spawn().await;
    let w = setup(&app).await;
    // A row the API would refuse to write: site B's ticket pointing at site A's records. The
    // loaders must still answer only with site B's rows.
    let mut row = tickets::Entity::find_by_id(w.b_ticket)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.contact_or_visitor_id = Set(Some(w.contact));
    row.contact_or_visitor_type = Set(Some(ParticipantType::Contact));
    row.assignee_id = Set(Some(w.agent));
    row.assignee_type = Set(Some(AssigneeType::Agent));
    row.department_assignee_id = Set(Some(w.department));
    row.created_by_id = Set(Some(w.chatbot));
    row.created_by_type = Set(Some(ParticipantType::Chatbot));
    row.last_replied_by_id = Set(Some(w.visitor));
    row.last_replied_by_type = Set(Some(ParticipantType::Visitor));
    row.update(&app.db).await.unwrap();

    let (status, body) = app
        .graphql_with(
            Some(&w.b_token),
            "query($id: Int!) { ticket(id: $id) {
               contactOrVisitor { __typename ... on Contact { name } }
               assignee { __typename ... on Agent { name } }
               departmentAssignee { name }
               createdBy { __typename ... on Chatbot { name } }
               lastRepliedBy { __typename ... on Visitor { name } }
               tags { name } draft { body } messages { nodes { body } } lastMessage { body }
               noteMentions { id } eventLogs { type }
             } }",
            json!({ "id": w.b_ticket }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        !body.to_string().to_uppercase().contains(MARK),
        "a relation leaked: {body}"
    );
    let t = &body["data"]["ticket"];
    for relation in ["assignee", "departmentAssignee"] {
        assert!(t[relation].is_null(), "{relation}: {body}");
    }
}

/// Every REST route as `METHOD path` relative to `/v4/ticketing/`, read from the OpenAPI
/// document, which is built from the shim's own route tables.
async fn documented_routes(app: &TestApp) -> BTreeSet<String> {
    let doc: Value = app
        .client
        .get(format!("{}/v4/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let path = path.strip_prefix("/v4/ticketing/").expect("a shim path");
        for method in item.as_object().unwrap().keys() {
            routes.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes
}

#[tokio::test]
async fn another_sites_token_reaches_nothing_through_any_rest_route() {
    let app = spawn_for_snapshots().await;
    let w = setup(&app).await;
    let before = snapshot(&app).await;
    let (t, bt) = (w.ticket, w.b_ticket);
    let not_found = StatusCode::NOT_FOUND;
    // (documented route, method, path, body, expected status)
    let cases: Vec<(&str, Method, String, Option<Value>, StatusCode)> = vec![
        (
            "GET tickets",
            Method::GET,
            "tickets?pageSize=100".into(),
            None,
            StatusCode::OK,
        ),
        (
            "GET tickets",
            Method::GET,
            format!("tickets?tagid={}", w.tag),
            None,
            StatusCode::OK,
        ),
        (
            "GET tickets",
            Method::GET,
            format!("tickets?viewId={}", w.view),
            None,
            not_found,
        ),
        (
            "GET tickets/{id}",
            Method::GET,
            format!("tickets/{t}"),
            None,
            not_found,
        ),
        (
            "POST tickets",
            Method::POST,
            "tickets".into(),
            Some(
                json!({ "subject": "x", "channelId": "email", "contactOrVisitorId": w.contact, "contactOrVisitorType": "contact" }),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST tickets:previewmessagetranslationfornewtickets",
            Method::POST,
            "tickets:previewmessagetranslationfornewtickets".into(),
            Some(json!({ "text": "hi", "ticketId": t })),
            not_found,
        ),
        (
            "POST tickets:unreadCount",
            Method::POST,
            "tickets:unreadCount".into(),
            Some(json!({ "viewIds": [w.view] })),
            not_found,
        ),
        (
            "POST tickets:unreadCount",
            Method::POST,
            "tickets:unreadCount".into(),
            Some(json!({})),
            StatusCode::OK,
        ),
        (
            "POST tickets/{id}:detectvisitorlanguage",
            Method::POST,
            format!("tickets/{t}:detectvisitorlanguage"),
            None,
            not_found,
        ),
        (
            "POST tickets/{id}:detectVisitorLanguage",
            Method::POST,
            format!("tickets/{t}:detectVisitorLanguage"),
            None,
            not_found,
        ),
        (
            "POST tickets/{id}:merge",
            Method::POST,
            format!("tickets/{bt}:merge"),
            Some(json!({ "sourceId": t })),
            not_found,
        ),
        (
            "POST tickets/{id}:merge",
            Method::POST,
            format!("tickets/{t}:merge"),
            Some(json!({ "sourceId": bt })),
            not_found,
        ),
        (
            "POST tickets/{id}:previewmessagetranslation",
            Method::POST,
            format!("tickets/{t}:previewmessagetranslation"),
            Some(json!({ "text": "hi" })),
            not_found,
        ),
        (
            "POST tickets/{id}:previewMessageTranslation",
            Method::POST,
            format!("tickets/{t}:previewMessageTranslation"),
            Some(json!({ "text": "hi" })),
            not_found,
        ),
        (
            "POST tickets/{id}:previewMessageTranslationForNewTickets",
            Method::POST,
            format!("tickets/{t}:previewMessageTranslationForNewTickets"),
            Some(json!({ "text": "hi" })),
            not_found,
        ),
        (
            "POST tickets/{id}:read",
            Method::POST,
            format!("tickets/{t}:read"),
            None,
            not_found,
        ),
        (
            "POST tickets/{id}:unread",
            Method::POST,
            format!("tickets/{t}:unread"),
            None,
            not_found,
        ),
        (
            "POST tickets/{id}:recycle",
            Method::POST,
            format!("tickets/{t}:recycle"),
            None,
            not_found,
        ),
        (
            "PUT tickets/{id}",
            Method::PUT,
            format!("tickets/{t}"),
            Some(json!({ "subject": "pwned" })),
            not_found,
        ),
        (
            "PUT tickets/{id}",
            Method::PUT,
            format!("tickets/{bt}"),
            Some(json!({ "tagIds": [w.tag] })),
            StatusCode::BAD_REQUEST,
        ),
        (
            "DELETE tickets/{id}",
            Method::DELETE,
            format!("tickets/{t}"),
            None,
            not_found,
        ),
    ];
    let covered: BTreeSet<String> = cases.iter().map(|c| c.0.to_owned()).collect();
    let documented = documented_routes(&app).await;
    assert!(
        documented.len() >= 16,
        "the README's route table: {documented:?}"
    );
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without an isolation case: {missing:?}"
    );

    for (route, method, path, body, expected) in cases {
        let mut request = app
            .client
            .request(method, format!("{}/v4/ticketing/{path}", app.base))
            .bearer_auth(&w.b_token);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let what = format!("{route} ({path} {})", body.clone().unwrap_or_default());
        assert_eq!(status, expected, "{what}: {text}");
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_clean(&w, &what, &value);
    }

    assert_eq!(snapshot(&app).await, before, "the owner's data changed");
}
