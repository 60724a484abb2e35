//! Full-text search over a ticket's subject and the decoded text of its messages. The
//! document is kept by the application (bodies arrive base64-encoded, which SQL cannot read);
//! each backend indexes it with its own machinery: a GIN index over `to_tsvector` on
//! PostgreSQL, an FTS5 table (rowid = ticket id) on SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE TABLE ticket_search (
                        ticket_id bigint PRIMARY KEY,
                        site_id uuid NOT NULL,
                        document text NOT NULL,
                        CONSTRAINT fk_ticket_search_ticket FOREIGN KEY (site_id, ticket_id)
                            REFERENCES tickets (site_id, id) ON DELETE CASCADE
                    )",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_ticket_search_document ON ticket_search
                        USING GIN (to_tsvector('simple', document))",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE ticket_search USING fts5(
                        document, site_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
                    )",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE ticket_search")
            .await?;
        Ok(())
    }
}
