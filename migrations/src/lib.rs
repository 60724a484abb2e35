//! Schema migrations for deskgraph. Each file is one migration and is never edited once landed:
//! a change to the schema is a new file. Every table carries `site_id`; tables that hang off a
//! ticket reference it by `(site_id, ticket_id)`, so the database itself refuses a row whose
//! site differs from its ticket's.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_sites_and_people;
mod m20261123_000002_tickets;
mod m20261123_000003_ticket_search;
mod m20261124_000621_versions_and_idempotency;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_sites_and_people::Migration),
            Box::new(m20261123_000002_tickets::Migration),
            Box::new(m20261123_000003_ticket_search::Migration),
            Box::new(m20261124_000621_versions_and_idempotency::Migration),
        ]
    }
}
