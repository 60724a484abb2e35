//! Sites, the people and bots that act in them, and the site's vocabulary (tags, views,
//! settings).

use crate::util::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sites::Table)
                    .col(pk_uuid(Sites::Id))
                    .col(text("name"))
                    .col(created_time())
                    .to_owned(),
            )
            .await?;

        // Server-wide values kept with the data (the generated JWT secret), shared by every
        // replica that points at the same database.
        manager
            .create_table(
                Table::create()
                    .table("instance_settings")
                    .col(string("key").primary_key())
                    .col(text("value"))
                    .to_owned(),
            )
            .await?;

        let mut agents = site_table("agents");
        agents
            .col(text("name"))
            .col(text("email"))
            .col(string("role").default("agent"))
            .col(boolean("is_active").default(true))
            .col(string("language").default(""))
            .col(created_time());
        manager.create_table(agents).await?;

        let mut departments = site_table("departments");
        departments
            .col(text("name"))
            .col(text("description").default(""))
            .col(created_time());
        manager.create_table(departments).await?;

        let mut chatbots = site_table("chatbots");
        chatbots
            .col(text("name"))
            .col(boolean("is_active").default(true))
            .col(created_time());
        manager.create_table(chatbots).await?;

        let mut contacts = site_table("contacts");
        contacts
            .col(text("name"))
            .col(text_null("email"))
            .col(text_null("phone"))
            .col(string("language").default(""))
            .col(created_time());
        manager.create_table(contacts).await?;

        let mut visitors = site_table("visitors");
        visitors
            .col(text("name"))
            .col(text_null("email"))
            .col(string("language").default(""))
            .col(created_time());
        manager.create_table(visitors).await?;

        let mut tags = site_table("tags");
        tags.col(text("name")).col(created_time());
        manager.create_table(tags).await?;

        let mut views = site_table("views");
        views
            .col(text("name"))
            .col(boolean("is_private").default(false))
            .col(uuid_null("created_by_id"))
            .col(string("condition_met_type").default("all"))
            .col(created_time())
            .col(timestamp_with_time_zone("last_updated_time"))
            .foreign_key(&mut fk(
                "views",
                "created_by_id",
                "agents",
                ForeignKeyAction::SetNull,
            ));
        manager.create_table(views).await?;

        let mut conditions = site_table("view_conditions");
        conditions
            .col(uuid("view_id"))
            .col(integer("position"))
            .col(string("field_name"))
            .col(string("operator"))
            .col(text("value"))
            .foreign_key(&mut fk(
                "view_conditions",
                "view_id",
                "views",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(conditions).await?;

        let mut settings = Table::create();
        settings
            .table("settings")
            .col(uuid("site_id"))
            .col(string("key"))
            .col(json_binary("value"))
            .primary_key(Index::create().col("site_id").col("key"))
            .foreign_key(&mut fk(
                "settings",
                "site_id",
                "sites",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(settings).await?;

        create_indexes(
            manager,
            vec![
                unique_index("agents", "site_email", &["site_id", "email"]),
                index("departments", "site", &["site_id", "name"]),
                index("chatbots", "site", &["site_id", "name"]),
                index("contacts", "site_email", &["site_id", "email"]),
                index("visitors", "site_email", &["site_id", "email"]),
                unique_index("tags", "site_name", &["site_id", "name"]),
                // Parents of the composite (site_id, id) foreign keys in the tickets migration.
                site_scoped_key("tags"),
                site_scoped_key("agents"),
                index("views", "site", &["site_id", "name"]),
                index("view_conditions", "view", &["view_id", "position"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "settings",
            "view_conditions",
            "views",
            "tags",
            "visitors",
            "contacts",
            "chatbots",
            "departments",
            "agents",
            "instance_settings",
            "sites",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
