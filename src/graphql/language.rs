//! Language detection and translation previews.

use async_graphql::{Context, Object, SimpleObject};

use super::tickets::Ticket;
use super::{GqlResult, session};
use crate::domain::language;
use crate::translate::Translator;

/// The language detected for a ticket's customer.
#[derive(SimpleObject)]
pub struct DetectedLanguage {
    /// Detected visitor language, an ISO 639-1 code (`fr`).
    pub visitor_language: String,
    /// The ticket, with its contactLanguage set to it.
    pub ticket: Ticket,
}

/// A translation preview: nothing is stored.
#[derive(SimpleObject)]
pub struct TranslationPreview {
    /// Message translation preview.
    pub translated_text: String,
    /// The ticket the preview is for, if any.
    pub ticket: Option<Ticket>,
}

#[derive(Default)]
pub struct LanguageMutation;

#[Object]
impl LanguageMutation {
    /// Detects the customer's language from their messages (offline, no service needed) and
    /// stores it as the ticket's contactLanguage.
    async fn detect_visitor_language(
        &self,
        ctx: &Context<'_>,
        id: i64,
    ) -> GqlResult<DetectedLanguage> {
        let (db, actor) = session(ctx)?;
        let (visitor_language, ticket) = language::detect_visitor_language(db, actor, id).await?;
        Ok(DetectedLanguage {
            visitor_language,
            ticket: Ticket(ticket),
        })
    }

    /// Translates the ticket's draft, or `text` when given, from the agent's language into the
    /// customer's, through the configured translation service.
    async fn preview_message_translation(
        &self,
        ctx: &Context<'_>,
        id: i64,
        text: Option<String>,
    ) -> GqlResult<TranslationPreview> {
        let (db, actor) = session(ctx)?;
        let translator = ctx.data_opt::<Translator>();
        let (translated_text, ticket) =
            language::preview_translation(db, actor, translator, id, text).await?;
        Ok(TranslationPreview {
            translated_text,
            ticket: Some(Ticket(ticket)),
        })
    }

    /// Translates `text` for a ticket not created yet: into `targetLanguage`, from
    /// `sourceLanguage` or the language the text is detected to be in. With `ticketId`, the
    /// ticket's languages fill in what is not given.
    async fn preview_message_translation_for_new_tickets(
        &self,
        ctx: &Context<'_>,
        text: String,
        source_language: Option<String>,
        target_language: Option<String>,
        ticket_id: Option<i64>,
    ) -> GqlResult<TranslationPreview> {
        let (db, actor) = session(ctx)?;
        let translator = ctx.data_opt::<Translator>();
        let ticket = match ticket_id {
            Some(id) => Some(crate::domain::tickets::get(db, actor, id).await?),
            None => None,
        };
        let nonempty = |s: &String| !s.is_empty();
        let source = source_language.or_else(|| {
            ticket
                .as_ref()
                .map(|t| t.agent_language.clone())
                .filter(nonempty)
        });
        let target = target_language
            .or_else(|| {
                ticket
                    .as_ref()
                    .map(|t| t.contact_language.clone())
                    .filter(nonempty)
            })
            .unwrap_or_default();
        let translated_text =
            language::translate(translator, &text, source.as_deref(), &target).await?;
        Ok(TranslationPreview {
            translated_text,
            ticket: ticket.map(Ticket),
        })
    }
}
