//! The demo site created on an empty database, so a first `cargo run` has something to show.

use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};
use uuid::Uuid;

use crate::Result;
use crate::domain::{self, Principal, tickets::NewTicket};
use crate::entity::*;

const DEMO_KEY: &str = "demo_principal";

/// Creates the demo site when the database holds no site yet. Returns the demo principal when
/// there is one (created now or on an earlier start).
pub async fn ensure(db: &DatabaseConnection) -> Result<Option<Principal>> {
    if sites::Entity::find().count(db).await? == 0 {
        let principal = create(db).await?;
        instance_settings::Entity::insert(instance_settings::ActiveModel {
            key: Set(DEMO_KEY.into()),
            value: Set(format!("{}:{}", principal.site_id, principal.agent_id)),
        })
        .on_conflict_do_nothing_on([instance_settings::Column::Key])
        .exec(db)
        .await?;
    }
    let Some(stored) = instance_settings::Entity::find_by_id(DEMO_KEY.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let principal = stored.value.split_once(':').and_then(|(site, agent)| {
        Some(Principal {
            site_id: site.parse().ok()?,
            agent_id: agent.parse().ok()?,
        })
    });
    Ok(match principal {
        Some(p) if domain::sites::active_agent(db, &p).await?.is_some() => Some(p),
        _ => None,
    })
}

async fn create(db: &DatabaseConnection) -> Result<Principal> {
    let site = domain::sites::create_site(db, "Demo Helpdesk").await?;
    let actor = site.principal();
    let now = domain::now();
    let department = departments::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set("Support".into()),
        description: Set("First line support".into()),
        created_time: Set(now),
    }
    .insert(db)
    .await?;
    let contact = contacts::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set("Michael Chen".into()),
        email: Set(Some("michael@example.com".into())),
        phone: Set(None),
        language: Set("en".into()),
        created_time: Set(now),
    }
    .insert(db)
    .await?;
    let visitor = visitors::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set("Visitor 1042".into()),
        email: Set(None),
        language: Set("fr".into()),
        created_time: Set(now),
    }
    .insert(db)
    .await?;
    for name in ["billing", "bug", "vip"] {
        tags::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(actor.site_id),
            name: Set(name.into()),
            created_time: Set(now),
        }
        .insert(db)
        .await?;
    }
    let tickets = [
        (
            "Chat Transcript with Michael",
            "chat",
            contact.id,
            ParticipantType::Contact,
            Priority::Normal,
        ),
        (
            "Invoice shows the wrong VAT number",
            "email",
            contact.id,
            ParticipantType::Contact,
            Priority::High,
        ),
        (
            "Le formulaire ne s'envoie pas",
            "chat",
            visitor.id,
            ParticipantType::Visitor,
            Priority::Urgent,
        ),
    ];
    for (subject, channel, who, kind, priority) in tickets {
        domain::tickets::create(
            db,
            &actor,
            NewTicket {
                subject: subject.into(),
                channel_id: channel.into(),
                contact_or_visitor_id: who,
                contact_or_visitor_type: Some(kind),
                created_by_id: Some(who),
                created_by_type: Some(kind),
                department_assignee_id: Some(department.id),
                assignee_id: Some(actor.agent_id),
                priority: Some(priority),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(actor)
}
