//! `deskgraph seed`: realistic bulk data in one site, for benchmarks. Rows go in with multi-row
//! inserts, a few hundred tickets per transaction, with every derived field already true (last
//! message, replies, metrics, read state, search documents), so the service reads seeded
//! tickets exactly as if they had been worked through the API.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Set, TransactionTrait, TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use crate::domain::{Principal, now, search};
use crate::entity::*;
use crate::{Error, Result};

mod copy;

/// Tickets per transaction. SQLite allows 32,766 bound values a statement: a ticket row has
/// 45 columns, so 500 of them stay under it, on PostgreSQL (65,535) too.
const BATCH: usize = 500;
/// Tickets per transaction when rows are streamed with COPY (PostgreSQL).
const COPY_BATCH: usize = 5_000;
/// Message rows per insert statement (26 columns each).
const MESSAGE_CHUNK: usize = 1_000;

const WORDS: &[&str] = &[
    "order",
    "refund",
    "invoice",
    "password",
    "login",
    "delivery",
    "parcel",
    "account",
    "payment",
    "card",
    "subscription",
    "cancel",
    "upgrade",
    "error",
    "crash",
    "slow",
    "mobile",
    "app",
    "email",
    "address",
    "shipping",
    "return",
    "broken",
    "missing",
    "discount",
    "coupon",
    "price",
    "billing",
    "export",
    "report",
    "sync",
    "calendar",
    "reset",
    "verify",
    "locked",
    "update",
];
const FIRST: &[&str] = &[
    "Ann", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas",
];
const LAST: &[&str] = &[
    "Smith", "Müller", "Dubois", "Rossi", "Tanaka", "Silva", "Novak", "Kowalski", "Haddad", "Olsen",
];

/// What `seed` made.
#[derive(Debug)]
pub struct Seeded {
    pub principal: Principal,
    pub tickets: usize,
}

/// The people and vocabulary of a seeded site.
struct Directory {
    agents: Vec<Uuid>,
    bots: Vec<Uuid>,
    departments: Vec<Uuid>,
    contacts: Vec<Uuid>,
    visitors: Vec<Uuid>,
    tags: Vec<Uuid>,
}

/// Adds `tickets` tickets (and the directory they need) to `site`, or to a new site.
pub async fn seed(db: &DatabaseConnection, site: Option<Uuid>, tickets: usize) -> Result<Seeded> {
    let principal = match site {
        Some(site_id) => {
            let admin = agents::Entity::find()
                .filter(agents::Column::SiteId.eq(site_id))
                .filter(agents::Column::Role.eq(AgentRole::Admin))
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found(format_args!("site {site_id}")))?;
            Principal {
                site_id,
                agent_id: admin.id,
            }
        }
        None => crate::domain::sites::create_site(db, "Seeded helpdesk")
            .await?
            .principal(),
    };
    let mut rng = StdRng::seed_from_u64(tickets as u64);
    let directory = directory(db, &principal, tickets, &mut rng).await?;
    // COPY has no limit on bound values: bigger transactions amortise the commit.
    let per_batch = match db.get_database_backend() {
        DbBackend::Postgres => COPY_BATCH,
        _ => BATCH,
    };
    let mut done = 0;
    while done < tickets {
        let n = per_batch.min(tickets - done);
        batch(db, &principal, &directory, n, &mut rng).await?;
        done += n;
        tracing::info!(done, of = tickets, "seeded");
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Bulk-loaded tables have no statistics until autovacuum comes round; without them the
        // planner sorts the whole site for the inbox (108 ms instead of 0.16 ms at 100,000).
        db.execute_unprepared("ANALYZE").await?;
    }
    // Servers running on this database keep counts of the site; the bulk load raised no
    // ticket events, so tell them once. (On SQLite one process owns the file: seed it while
    // no server runs on it.)
    let txn = crate::db::begin_write(db).await?;
    crate::live::commit_site_change(db, txn, principal.site_id).await?;
    Ok(Seeded { principal, tickets })
}

fn name(rng: &mut StdRng) -> String {
    format!(
        "{} {}",
        FIRST[rng.random_range(0..FIRST.len())],
        LAST[rng.random_range(0..LAST.len())]
    )
}

fn sentence(rng: &mut StdRng, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A body as channels send them: HTML in a base64 `data:` URI.
fn body(text: &str) -> String {
    format!(
        "data:text/html;base64,{}",
        STANDARD.encode(format!("<p>{text}</p>"))
    )
}

async fn directory(
    db: &DatabaseConnection,
    p: &Principal,
    tickets: usize,
    rng: &mut StdRng,
) -> Result<Directory> {
    let site_id = p.site_id;
    let at = now();
    let txn = db.begin().await?;
    let ids = |n: usize| (0..n).map(|_| Uuid::now_v7()).collect::<Vec<_>>();
    let agents = ids(300);
    for chunk in agents.chunks(MESSAGE_CHUNK / 4) {
        agents::Entity::insert_many(chunk.iter().enumerate().map(|(i, id)| agents::ActiveModel {
            id: Set(*id),
            site_id: Set(site_id),
            name: Set(name(rng)),
            email: Set(format!("agent-{}@seed.invalid", id.simple())),
            role: Set(if i == 0 {
                AgentRole::Admin
            } else {
                AgentRole::Agent
            }),
            is_active: Set(true),
            language: Set("en".into()),
            created_time: Set(at),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let bots = ids(3);
    chatbots::Entity::insert_many(
        bots.iter()
            .enumerate()
            .map(|(i, id)| chatbots::ActiveModel {
                id: Set(*id),
                site_id: Set(site_id),
                name: Set(format!("Bot {i}")),
                is_active: Set(true),
                created_time: Set(at),
            }),
    )
    .exec_without_returning(&txn)
    .await?;
    let departments = ids(10);
    departments::Entity::insert_many(departments.iter().enumerate().map(|(i, id)| {
        departments::ActiveModel {
            id: Set(*id),
            site_id: Set(site_id),
            name: Set(format!("Department {i}")),
            description: Set(String::new()),
            created_time: Set(at),
        }
    }))
    .exec_without_returning(&txn)
    .await?;
    let contacts = ids((tickets / 10).clamp(50, 5_000));
    for chunk in contacts.chunks(MESSAGE_CHUNK) {
        contacts::Entity::insert_many(chunk.iter().map(|id| contacts::ActiveModel {
            id: Set(*id),
            site_id: Set(site_id),
            name: Set(name(rng)),
            email: Set(Some(format!("{}@example.com", id.simple()))),
            phone: Set(None),
            language: Set("en".into()),
            created_time: Set(at),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let visitors = ids((tickets / 20).clamp(20, 2_000));
    for chunk in visitors.chunks(MESSAGE_CHUNK) {
        visitors::Entity::insert_many(chunk.iter().map(|id| visitors::ActiveModel {
            id: Set(*id),
            site_id: Set(site_id),
            name: Set(name(rng)),
            email: Set(None),
            language: Set(String::new()),
            created_time: Set(at),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    // Tag names are unique in a site: a second seed into the same site tags with its tags.
    let mut tags: Vec<Uuid> = tags::Entity::find()
        .filter(tags::Column::SiteId.eq(site_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    if tags.is_empty() {
        tags = ids(30);
        tags::Entity::insert_many(tags.iter().enumerate().map(|(i, id)| tags::ActiveModel {
            id: Set(*id),
            site_id: Set(site_id),
            name: Set(format!("{} {i}", WORDS[i % WORDS.len()])),
            created_time: Set(at),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    // Views of the kinds a team keeps: by status, by assignee, by tag, by priority.
    let statuses = ["new", "pendingInternal", "pendingExternal", "onHold"];
    for i in 0..40 {
        let (field, op, value) = match i % 4 {
            0 => ("status", "is", statuses[i / 4 % statuses.len()].to_owned()),
            1 => ("assigneeId", "is", agents[i % agents.len()].to_string()),
            2 => ("tagIds", "contains", tags[i % tags.len()].to_string()),
            _ => ("priority", "isOneOf", "urgent,high".to_owned()),
        };
        let view = views::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set(format!("View {i}")),
            is_private: Set(false),
            created_by_id: Set(Some(p.agent_id)),
            condition_met_type: Set(ConditionMetType::All),
            created_time: Set(at),
            last_updated_time: Set(at),
        }
        .insert(&txn)
        .await?;
        view_conditions::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            view_id: Set(view.id),
            position: Set(0),
            field_name: Set(field.into()),
            operator: Set(op.into()),
            value: Set(value),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Directory {
        agents,
        bots,
        departments,
        contacts,
        visitors,
        tags,
    })
}

/// One ticket's worth of rows, planned before any is written.
struct Plan {
    ticket: tickets::ActiveModel,
    messages: Vec<messages::Model>,
    tags: Vec<Uuid>,
    mention: Option<Uuid>,
    draft: bool,
    document: String,
}

async fn batch(
    db: &DatabaseConnection,
    p: &Principal,
    d: &Directory,
    n: usize,
    rng: &mut StdRng,
) -> Result<()> {
    let plans: Vec<Plan> = (0..n).map(|_| plan(p, d, rng)).collect();
    if db.get_database_backend() == DbBackend::Postgres {
        return batch_copy(db, p, plans).await;
    }
    let txn = db.begin().await?;
    let inserted = tickets::Entity::insert_many(plans.iter().map(|pl| pl.ticket.clone()))
        .exec_with_returning(&txn)
        .await?;
    let mut messages = Vec::new();
    let mut links = Vec::new();
    let mut mentions = Vec::new();
    let mut drafts = Vec::new();
    for (ticket, plan) in inserted.iter().zip(&plans) {
        let c = children(p, ticket, plan);
        messages.extend(c.messages.into_iter().map(messages::ActiveModel::from));
        links.extend(c.links.into_iter().map(ticket_tags::ActiveModel::from));
        mentions.extend(c.mention.map(note_mentions::ActiveModel::from));
        drafts.extend(c.draft.map(drafts::ActiveModel::from));
    }
    for chunk in messages.chunks(MESSAGE_CHUNK) {
        messages::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in links.chunks(MESSAGE_CHUNK) {
        ticket_tags::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    note_mentions::Entity::insert_many(mentions)
        .exec_without_returning(&txn)
        .await?;
    drafts::Entity::insert_many(drafts)
        .exec_without_returning(&txn)
        .await?;
    let documents: Vec<(i64, String)> = inserted
        .iter()
        .zip(plans)
        .map(|(ticket, plan)| (ticket.id, plan.document))
        .collect();
    search::insert_documents(&txn, p.site_id, &documents).await?;
    txn.commit().await?;
    Ok(())
}

/// The same rows as `batch`, streamed with COPY under ids reserved from the sequence.
async fn batch_copy(db: &DatabaseConnection, p: &Principal, plans: Vec<Plan>) -> Result<()> {
    let ids = copy::ticket_ids(db, plans.len()).await?;
    let mut tickets = Vec::with_capacity(plans.len());
    let mut messages = Vec::new();
    let mut links = Vec::new();
    let mut mentions = Vec::new();
    let mut drafts = Vec::new();
    let mut search = copy::CopyRows::new("ticket_search", &["ticket_id", "site_id", "document"]);
    for (id, plan) in ids.into_iter().zip(plans) {
        let mut ticket = plan.ticket.clone();
        ticket.id = Set(id);
        let ticket = ticket.try_into_model()?;
        let c = children(p, &ticket, &plan);
        messages.extend(c.messages);
        links.extend(c.links);
        mentions.extend(c.mention);
        drafts.extend(c.draft);
        copy::search_row(&mut search, id, p.site_id, &plan.document)?;
        tickets.push(ticket);
    }
    copy::write(
        db,
        copy::Batch {
            tickets: copy::CopyRows::of(&tickets)?,
            messages: copy::CopyRows::of(&messages)?,
            ticket_tags: copy::CopyRows::of(&links)?,
            note_mentions: copy::CopyRows::of(&mentions)?,
            drafts: copy::CopyRows::of(&drafts)?,
            search,
        },
    )
    .await
}

/// A planned ticket's child rows, once its id is known.
struct Children {
    messages: Vec<messages::Model>,
    links: Vec<ticket_tags::Model>,
    mention: Option<note_mentions::Model>,
    draft: Option<drafts::Model>,
}

fn children(p: &Principal, ticket: &tickets::Model, plan: &Plan) -> Children {
    let messages = plan
        .messages
        .iter()
        .map(|m| messages::Model {
            ticket_id: ticket.id,
            ..m.clone()
        })
        .collect();
    let links = plan
        .tags
        .iter()
        .map(|tag| ticket_tags::Model {
            site_id: p.site_id,
            ticket_id: ticket.id,
            tag_id: *tag,
        })
        .collect();
    let mention = match (plan.mention, plan.messages.iter().find(|m| m.is_internal)) {
        (Some(agent), Some(note)) => Some(note_mentions::Model {
            id: Uuid::now_v7(),
            site_id: p.site_id,
            note_id: note.id,
            agent_id: agent,
            ticket_id: ticket.id,
            is_read_by_agent: false,
            created_time: ticket.created_time,
        }),
        _ => None,
    };
    let draft = plan.draft.then(|| drafts::Model {
        ticket_id: ticket.id,
        site_id: p.site_id,
        body: body("Thanks for waiting, here is what we found"),
        r#type: "html".into(),
        metadata: None,
        last_updated_by_id: ticket.assignee_id,
        last_updated_time: ticket.last_updated_time,
    });
    Children {
        messages,
        links,
        mention,
        draft,
    }
}

/// A ticket some days old, worked through a few messages, with every derived field set as the
/// domain would have set it.
fn plan(p: &Principal, d: &Directory, rng: &mut StdRng) -> Plan {
    let pick = |rng: &mut StdRng, v: &[Uuid]| v[rng.random_range(0..v.len())];
    let created: DateTime<Utc> =
        now() - TimeDelta::seconds(rng.random_range(5 * 86_400..365 * 86_400));
    let (customer, customer_type) = if rng.random_bool(0.7) {
        (pick(rng, &d.contacts), ParticipantType::Contact)
    } else {
        (pick(rng, &d.visitors), ParticipantType::Visitor)
    };
    let (assignee, assignee_type) = if rng.random_bool(0.1) {
        (pick(rng, &d.bots), AssigneeType::Chatbot)
    } else {
        (pick(rng, &d.agents), AssigneeType::Agent)
    };
    let subject = format!("{} {}", sentence(rng, 3), rng.random_range(100..99_999));
    let mut document = subject.clone();
    let mut time = created;
    let mut messages = Vec::new();
    let count = rng.random_range(2..=4);
    for i in 0..count {
        time += TimeDelta::seconds(rng.random_range(60..86_400));
        let from_customer = i % 2 == 0;
        let text = sentence(rng, 12);
        document.push('\n');
        document.push_str(&text);
        let (by, by_type) = if from_customer {
            (customer, customer_type)
        } else {
            (assignee, assignee_type.into())
        };
        messages.push(message(p, by, by_type, time, &text, false));
    }
    let mention = rng.random_bool(0.2).then(|| pick(rng, &d.agents));
    if mention.is_some() {
        time += TimeDelta::seconds(60);
        let text = sentence(rng, 6);
        document.push('\n');
        document.push_str(&text);
        messages.push(message(
            p,
            p.agent_id,
            ParticipantType::Agent,
            time,
            &text,
            true,
        ));
    }
    let last = messages.last().expect("every ticket has messages");
    let replies: Vec<&messages::Model> = messages.iter().filter(|m| !m.is_internal).collect();
    let last_reply = replies.last().expect("every ticket has replies");
    let first_response = replies
        .iter()
        .find(|m| !m.sent_by_type.is_some_and(ParticipantType::is_customer));
    let agent_replies = replies
        .iter()
        .filter(|m| !m.sent_by_type.is_some_and(ParticipantType::is_customer))
        .count();
    let customer_last = last_reply
        .sent_by_type
        .is_some_and(ParticipantType::is_customer);
    let resolved = !customer_last && rng.random_bool(0.4);
    let status = match (resolved, customer_last) {
        (true, _) => TicketStatus::Resolved,
        (false, true) => TicketStatus::PendingInternal,
        (false, false) if rng.random_bool(0.2) => TicketStatus::OnHold,
        _ => TicketStatus::PendingExternal,
    };
    let updated = time + TimeDelta::seconds(rng.random_range(1..3_600));
    let by_bot = assignee_type == AssigneeType::Chatbot;
    let ticket = tickets::ActiveModel {
        site_id: Set(p.site_id),
        subject: Set(subject),
        original_conversation_id: Set(None),
        assignee_id: Set(Some(assignee)),
        assignee_type: Set(Some(assignee_type)),
        department_assignee_id: Set(Some(pick(rng, &d.departments))),
        channel_id: Set(if rng.random_bool(0.5) {
            "email".into()
        } else {
            "chat".into()
        }),
        channel_account_id: Set(None),
        last_message_id: Set(Some(last.id)),
        last_message_channel_id: Set(last.channel_id.clone()),
        last_message_channel_account_id: Set(None),
        contact_or_visitor_id: Set(Some(customer)),
        contact_or_visitor_type: Set(Some(customer_type)),
        created_by_id: Set(Some(customer)),
        created_by_type: Set(Some(customer_type)),
        last_replied_by_id: Set(last_reply.sent_by_id),
        last_replied_by_type: Set(last_reply.sent_by_type),
        resolved_by_id: Set(resolved.then_some(assignee)),
        resolved_by_type: Set(resolved.then_some(assignee_type.into())),
        status: Set(status),
        priority: Set([
            Priority::Urgent,
            Priority::High,
            Priority::Normal,
            Priority::Normal,
            Priority::Low,
        ][rng.random_range(0..5)]),
        is_read_by_agent: Set(!customer_last || rng.random_bool(0.5)),
        is_read_by_contact: Set(true),
        if_has_draft: Set(false),
        merged_to_target_id: Set(None),
        total_replies: Set(replies.len() as i32),
        created_time: Set(created),
        last_updated_time: Set(updated),
        last_replied_time: Set(Some(last_reply.time)),
        last_status_changed_time: Set(Some(updated)),
        resolved_time: Set(resolved.then_some(updated)),
        is_in_recycle_bin: Set(rng.random_bool(0.01)),
        reopened_time: Set(None),
        contact_language: Set("en".into()),
        agent_language: Set("en".into()),
        auto_translation_status: Set(false),
        response_time_span: Set(rng.random_range(60..86_400)),
        replying_agent: Set(match (agent_replies, by_bot) {
            (0, _) => ReplyingAgent::NoReply,
            (_, true) => ReplyingAgent::BotOnly,
            _ => ReplyingAgent::AgentOnly,
        }),
        response_count: Set(agent_replies as i64),
        resolved_time_span: Set(resolved.then(|| (updated - created).num_seconds())),
        first_response_time_span: Set(first_response.map(|m| (m.time - created).num_seconds())),
        version: Set(0),
        ..Default::default()
    };
    let draft = rng.random_bool(0.1);
    let mut ticket = ticket;
    ticket.if_has_draft = Set(draft);
    let tag_count = rng.random_range(0..=3);
    let mut tags: Vec<Uuid> = (0..tag_count).map(|_| pick(rng, &d.tags)).collect();
    tags.sort();
    tags.dedup();
    Plan {
        ticket,
        messages,
        tags,
        mention,
        draft,
        document,
    }
}

fn message(
    p: &Principal,
    by: Uuid,
    by_type: ParticipantType,
    time: DateTime<Utc>,
    text: &str,
    internal: bool,
) -> messages::Model {
    messages::Model {
        id: Uuid::now_v7(),
        site_id: p.site_id,
        ticket_id: 0,
        parent_id: None,
        original_id: None,
        sent_by_id: Some(by),
        sent_by_type: Some(by_type),
        time,
        r#type: "html".into(),
        metadata: Some(json!({ "channel": null, "source": null })),
        channel_id: Some("email".into()),
        channel_account_id: None,
        body: body(text),
        translated_body: String::new(),
        if_display_in_ticket_correspondences: true,
        is_original_sent_to_contact: !internal,
        show_inline_image: false,
        is_read: true,
        is_internal: internal,
        delivery_status: None,
        delivery_fail_reason: None,
        delivery_time: None,
        delivery_group_id: None,
        delivery_order_num: None,
        created_time: time,
    }
}
