//! Tickets and everything that hangs off one: tags, messages and notes with their
//! attachments, the draft, note mentions and the event log. Children reference their ticket by
//! `(site_id, ticket_id)` and go with it when it is deleted.

use crate::util::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut tickets = Table::create();
        tickets.table("tickets").col(big_pk_auto("id"));
        site_column(&mut tickets, "tickets");
        tickets
            .col(text("subject"))
            .col(text_null("original_conversation_id"))
            // Polymorphic references (agent or chatbot; contact, visitor, ...) carry their
            // kind in the matching *_type column and are checked by the domain layer.
            .col(uuid_null("assignee_id"))
            .col(string_null("assignee_type"))
            .col(uuid_null("department_assignee_id"))
            .col(text("channel_id"))
            .col(uuid_null("channel_account_id"))
            .col(uuid_null("last_message_id"))
            .col(text_null("last_message_channel_id"))
            .col(uuid_null("last_message_channel_account_id"))
            .col(uuid_null("contact_or_visitor_id"))
            .col(string_null("contact_or_visitor_type"))
            .col(uuid_null("created_by_id"))
            .col(string_null("created_by_type"))
            .col(uuid_null("last_replied_by_id"))
            .col(string_null("last_replied_by_type"))
            .col(uuid_null("resolved_by_id"))
            .col(string_null("resolved_by_type"))
            .col(string("status"))
            .col(string("priority"))
            .col(boolean("is_read_by_agent").default(false))
            .col(boolean("is_read_by_contact").default(false))
            .col(boolean("if_has_draft").default(false))
            .col(big_integer_null("merged_to_target_id"))
            .col(integer("total_replies").default(0))
            .col(timestamp_with_time_zone("created_time"))
            .col(timestamp_with_time_zone("last_updated_time"))
            .col(timestamp_with_time_zone_null("last_replied_time"))
            .col(timestamp_with_time_zone_null("last_status_changed_time"))
            .col(timestamp_with_time_zone_null("resolved_time"))
            .col(boolean("is_in_recycle_bin").default(false))
            .col(timestamp_with_time_zone_null("reopened_time"))
            .col(string("contact_language").default(""))
            .col(string("agent_language").default(""))
            .col(boolean("auto_translation_status").default(false))
            .col(big_integer("response_time_span").default(0))
            .col(string("replying_agent").default("noReply"))
            .col(big_integer("response_count").default(0))
            .col(big_integer_null("resolved_time_span"))
            .col(big_integer_null("first_response_time_span"))
            .foreign_key(&mut fk(
                "tickets",
                "department_assignee_id",
                "departments",
                ForeignKeyAction::SetNull,
            ))
            .foreign_key(&mut fk(
                "tickets",
                "merged_to_target_id",
                "tickets",
                ForeignKeyAction::SetNull,
            ));
        manager.create_table(tickets).await?;
        manager.create_index(site_scoped_key("tickets")).await?;

        let mut ticket_tags = Table::create();
        ticket_tags
            .table("ticket_tags")
            .col(uuid("site_id"))
            .col(big_integer("ticket_id"))
            .col(uuid("tag_id"))
            .primary_key(Index::create().col("ticket_id").col("tag_id"))
            .foreign_key(&mut same_site_fk(
                "ticket_tags",
                "ticket_id",
                "tickets",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut same_site_fk(
                "ticket_tags",
                "tag_id",
                "tags",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(ticket_tags).await?;

        let mut messages = site_table("messages");
        messages
            .col(big_integer("ticket_id"))
            .col(uuid_null("parent_id"))
            .col(text_null("original_id"))
            .col(uuid_null("sent_by_id"))
            .col(string_null("sent_by_type"))
            .col(timestamp_with_time_zone("time"))
            .col(string("type").default("text"))
            .col(json_binary_null("metadata"))
            .col(text_null("channel_id"))
            .col(uuid_null("channel_account_id"))
            .col(text("body"))
            .col(text("translated_body").default(""))
            .col(boolean("if_display_in_ticket_correspondences").default(true))
            .col(boolean("is_original_sent_to_contact").default(false))
            .col(boolean("show_inline_image").default(false))
            .col(boolean("is_read").default(false))
            // A note is an internal message.
            .col(boolean("is_internal").default(false))
            .col(string_null("delivery_status"))
            .col(text_null("delivery_fail_reason"))
            .col(timestamp_with_time_zone_null("delivery_time"))
            .col(uuid_null("delivery_group_id"))
            .col(integer_null("delivery_order_num"))
            .col(timestamp_with_time_zone("created_time"))
            .foreign_key(&mut same_site_fk(
                "messages",
                "ticket_id",
                "tickets",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(messages).await?;

        let mut attachments = site_table("message_attachments");
        attachments
            .col(uuid("message_id"))
            .col(integer("position"))
            .col(text("file_key"))
            .col(text("name"))
            .col(big_integer("size").default(0))
            .col(string("type").default("file"))
            .col(text("url"))
            .foreign_key(&mut fk(
                "message_attachments",
                "message_id",
                "messages",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(attachments).await?;

        let mut drafts = Table::create();
        drafts
            .table("drafts")
            .col(big_integer("ticket_id").primary_key())
            .col(uuid("site_id"))
            .col(text("body"))
            .col(string("type").default("html"))
            .col(json_binary_null("metadata"))
            .col(uuid_null("last_updated_by_id"))
            .col(timestamp_with_time_zone("last_updated_time"))
            .foreign_key(&mut same_site_fk(
                "drafts",
                "ticket_id",
                "tickets",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(drafts).await?;

        let mut draft_attachments = site_table("draft_attachments");
        draft_attachments
            .col(big_integer("ticket_id"))
            .col(integer("position"))
            .col(text("file_key"))
            .col(text("name"))
            .col(big_integer("size").default(0))
            .col(string("type").default("file"))
            .col(text("url"))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_draft_attachments_ticket_id")
                    .from("draft_attachments", "ticket_id")
                    .to("drafts", "ticket_id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager.create_table(draft_attachments).await?;

        let mut mentions = site_table("note_mentions");
        mentions
            .col(uuid("note_id"))
            .col(uuid("agent_id"))
            .col(big_integer("ticket_id"))
            .col(boolean("is_read_by_agent").default(false))
            .col(timestamp_with_time_zone("created_time"))
            .foreign_key(&mut fk(
                "note_mentions",
                "note_id",
                "messages",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut same_site_fk(
                "note_mentions",
                "agent_id",
                "agents",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut same_site_fk(
                "note_mentions",
                "ticket_id",
                "tickets",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(mentions).await?;

        let mut events = site_table("ticket_event_logs");
        events
            .col(big_integer("ticket_id"))
            .col(string("type"))
            .col(uuid_null("created_by_id"))
            .col(string_null("created_by_type"))
            .col(json_binary_null("detail"))
            .col(timestamp_with_time_zone("time"))
            .foreign_key(&mut same_site_fk(
                "ticket_event_logs",
                "ticket_id",
                "tickets",
                ForeignKeyAction::Cascade,
            ));
        manager.create_table(events).await?;

        create_indexes(
            manager,
            vec![
                // The inbox: newest change first, id as the keyset tie-breaker.
                index(
                    "tickets",
                    "site_updated",
                    &["site_id", "last_updated_time", "id"],
                ),
                index(
                    "tickets",
                    "site_status",
                    &["site_id", "status", "last_updated_time"],
                ),
                index("tickets", "site_assignee", &["site_id", "assignee_id"]),
                index(
                    "tickets",
                    "site_department",
                    &["site_id", "department_assignee_id"],
                ),
                index(
                    "tickets",
                    "site_contact",
                    &["site_id", "contact_or_visitor_id"],
                ),
                index("tickets", "site_replied", &["site_id", "last_replied_time"]),
                index("tickets", "merged_to", &["merged_to_target_id"]),
                index("ticket_tags", "tag", &["site_id", "tag_id", "ticket_id"]),
                index("messages", "ticket_time", &["ticket_id", "time", "id"]),
                index(
                    "message_attachments",
                    "message",
                    &["message_id", "position"],
                ),
                index("draft_attachments", "ticket", &["ticket_id", "position"]),
                index(
                    "note_mentions",
                    "agent_unread",
                    &["site_id", "agent_id", "is_read_by_agent"],
                ),
                index("note_mentions", "ticket", &["ticket_id"]),
                index("note_mentions", "note", &["note_id"]),
                index("ticket_event_logs", "ticket_time", &["ticket_id", "time"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "ticket_event_logs",
            "note_mentions",
            "draft_attachments",
            "drafts",
            "message_attachments",
            "messages",
            "ticket_tags",
            "tickets",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
