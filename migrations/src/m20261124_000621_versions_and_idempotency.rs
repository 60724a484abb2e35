//! Ticket versions (the REST ETag: a counter, so two changes in the same millisecond never
//! share one), idempotency keys for ticket creation, and case-insensitive uniqueness of tag
//! names and agent emails enforced by the database (the code's check alone lets two
//! concurrent creates through on PostgreSQL).

use crate::util::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("tickets")
                    .add_column(big_integer("version").default(0))
                    .to_owned(),
            )
            .await?;

        // One row per (site, agent, key): the request it answered (a hash) and the ticket it
        // created. Written in the ticket's own transaction; the primary key makes concurrent
        // retries queue on one another instead of creating two tickets.
        let mut keys = Table::create();
        keys.table("idempotency_keys");
        site_column(&mut keys, "idempotency_keys");
        keys.col(uuid("agent_id"))
            .col(text("key"))
            .col(text("request_hash"))
            .col(big_integer_null("ticket_id"))
            .col(created_time())
            .primary_key(Index::create().col("site_id").col("agent_id").col("key"));
        manager.create_table(keys).await?;
        // Expired keys are swept by age.
        manager
            .create_index(index("idempotency_keys", "created_time", &["created_time"]))
            .await?;

        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_tags_site_lower_name ON tags (site_id, lower(name))",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_agents_site_lower_email ON agents (site_id, lower(email))",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ux_agents_site_lower_email")
            .await?;
        db.execute_unprepared("DROP INDEX ux_tags_site_lower_name")
            .await?;
        manager
            .drop_table(Table::drop().table("idempotency_keys").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("tickets")
                    .drop_column("version")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
