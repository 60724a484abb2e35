//! Sites (one per customer of the service) and their first agent.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::{Principal, now, required_text};
use crate::Result;
use crate::entity::{AgentRole, agents, sites};

/// A new site and the admin agent that can act in it.
#[derive(Debug, Clone)]
pub struct NewSite {
    pub site: sites::Model,
    pub admin: agents::Model,
}

impl NewSite {
    pub fn principal(&self) -> Principal {
        Principal {
            site_id: self.site.id,
            agent_id: self.admin.id,
        }
    }
}

/// Creates a site with one active admin agent, in one transaction.
pub async fn create_site(db: &DatabaseConnection, name: &str) -> Result<NewSite> {
    let name = required_text("name", name, 200)?;
    let txn = crate::db::begin_write(db).await?;
    let site = sites::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        created_time: Set(now()),
    }
    .insert(&txn)
    .await?;
    let admin = insert_agent(
        &txn,
        site.id,
        "Administrator",
        &format!("admin@{}.invalid", site.id),
        AgentRole::Admin,
    )
    .await?;
    txn.commit().await?;
    Ok(NewSite { site, admin })
}

pub(crate) async fn insert_agent(
    db: &impl ConnectionTrait,
    site_id: Uuid,
    name: &str,
    email: &str,
    role: AgentRole,
) -> Result<agents::Model> {
    Ok(agents::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(site_id),
        name: Set(name.to_owned()),
        email: Set(email.to_owned()),
        role: Set(role),
        is_active: Set(true),
        language: Set(String::new()),
        created_time: Set(now()),
    }
    .insert(db)
    .await?)
}

/// The agent a token names, if it exists in that site and may act.
pub async fn active_agent(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Option<agents::Model>> {
    let agent = principal
        .find::<agents::Entity>()
        .filter(agents::Column::Id.eq(principal.agent_id))
        .one(db)
        .await?;
    Ok(agent.filter(|a| a.is_active))
}

pub async fn find_site(db: &DatabaseConnection, id: Uuid) -> Result<Option<sites::Model>> {
    Ok(sites::Entity::find_by_id(id).one(db).await?)
}
