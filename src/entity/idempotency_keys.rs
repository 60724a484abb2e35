//! One row is an `Idempotency-Key` an agent sent with a ticket creation: a hash of the request
//! it came with and the ticket it created, kept for a day.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub site_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub key: String,
    #[sea_orm(column_type = "Text")]
    pub request_hash: String,
    pub ticket_id: Option<i64>,
    pub created_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
