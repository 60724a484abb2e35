//! A customer's language: detected offline from what they wrote, and translation previews
//! between the agent's and the customer's language.

use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::tickets::{get, lock, log_event, save};
use super::{Principal, text};
use crate::entity::*;
use crate::translate::Translator;
use crate::{Error, Result};

/// Detects the language of the ticket's customer from their messages, stores it as the
/// ticket's contactLanguage and returns it (an ISO 639-1 code such as `fr`).
pub async fn detect_visitor_language(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> Result<(String, tickets::Model)> {
    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, id).await?;
    let written: Vec<String> = actor
        .find::<messages::Entity>()
        .filter(messages::Column::TicketId.eq(id))
        .filter(messages::Column::IsInternal.eq(false))
        .filter(
            messages::Column::SentByType
                .is_in([ParticipantType::Contact, ParticipantType::Visitor]),
        )
        .order_by_asc(messages::Column::Time)
        .all(&txn)
        .await?
        .iter()
        .map(|m| text::plain_text(&m.body))
        .collect();
    let language = detect(&written.join("\n")).ok_or_else(|| {
        Error::bad_input(
            "id",
            format!(
                "ticket {id} has no message from its customer in a language that can be recognised"
            ),
        )
    })?;
    let mut t: tickets::ActiveModel = ticket.into();
    t.contact_language = Set(language.to_owned());
    let saved = save(&txn, t).await?;
    log_event(
        &txn,
        actor,
        id,
        "languageDetected",
        json!({ "language": language }),
    )
    .await?;
    let event = crate::live::TicketEvent::new(actor.site_id, id, crate::live::ChangeKind::Updated);
    crate::live::commit(db, txn, &[event]).await?;
    Ok((language.to_owned(), saved))
}

/// The ISO 639-1 code of the language `text` is written in, if it can be told.
pub fn detect(text: &str) -> Option<&'static str> {
    let info = whatlang::detect(text.trim())?;
    iso639_1(info.lang().code())
}

/// What the ticket's draft (or `text`, when given) reads like in the customer's language.
/// The same language on both sides returns the text as it is, with no call to the service.
pub async fn preview_translation(
    db: &DatabaseConnection,
    actor: &Principal,
    translator: Option<&Translator>,
    id: i64,
    text: Option<String>,
) -> Result<(String, tickets::Model)> {
    let ticket = get(db, actor, id).await?;
    let text = match text {
        Some(t) => t,
        None => actor
            .find::<drafts::Entity>()
            .filter(drafts::Column::TicketId.eq(id))
            .one(db)
            .await?
            .map(|d| text::plain_text(&d.body))
            .ok_or_else(|| {
                Error::bad_input(
                    "text",
                    format!("no text given and ticket {id} has no draft"),
                )
            })?,
    };
    if ticket.contact_language.is_empty() {
        return Err(Error::bad_input(
            "contactLanguage",
            format!("ticket {id} has no contactLanguage: set it or detect it first"),
        ));
    }
    let source = Some(ticket.agent_language.as_str()).filter(|l| !l.is_empty());
    let translated = translate(translator, &text, source, &ticket.contact_language).await?;
    Ok((translated, ticket))
}

/// Translates `text` into `target`, from `source` or, when it is not given, from the language
/// the text is detected to be in.
pub async fn translate(
    translator: Option<&Translator>,
    text: &str,
    source: Option<&str>,
    target: &str,
) -> Result<String> {
    super::optional_text("text", text, super::limits::TRANSLATION_TEXT_MAX)?;
    if target.trim().is_empty() {
        return Err(Error::bad_input(
            "targetLanguage",
            "the language to translate into is required",
        ));
    }
    let source = match source {
        Some(s) => s,
        None => detect(text).ok_or_else(|| {
            Error::bad_input(
                "sourceLanguage",
                "the text's language could not be recognised: give sourceLanguage",
            )
        })?,
    };
    if source.eq_ignore_ascii_case(target) || text.trim().is_empty() {
        return Ok(text.to_owned());
    }
    let translator = translator.ok_or_else(|| {
        Error::Unavailable(
            "translation is not configured on this server (set DESKGRAPH_TRANSLATE_URL)".into(),
        )
    })?;
    translator.translate(text, source, target).await
}

/// whatlang names languages by ISO 639-3; the API and translation services use ISO 639-1.
fn iso639_1(code3: &str) -> Option<&'static str> {
    Some(match code3 {
        "eng" => "en",
        "fra" => "fr",
        "deu" => "de",
        "spa" => "es",
        "por" => "pt",
        "ita" => "it",
        "nld" => "nl",
        "rus" => "ru",
        "ukr" => "uk",
        "pol" => "pl",
        "ces" => "cs",
        "slk" => "sk",
        "slv" => "sl",
        "hrv" => "hr",
        "srp" => "sr",
        "bul" => "bg",
        "mkd" => "mk",
        "bel" => "be",
        "ron" => "ro",
        "hun" => "hu",
        "fin" => "fi",
        "est" => "et",
        "lav" => "lv",
        "lit" => "lt",
        "swe" => "sv",
        "dan" => "da",
        "nob" => "nb",
        "ell" => "el",
        "tur" => "tr",
        "aze" => "az",
        "uzb" => "uz",
        "tuk" => "tk",
        "kat" => "ka",
        "hye" => "hy",
        "heb" => "he",
        "yid" => "yi",
        "ara" => "ar",
        "pes" => "fa",
        "urd" => "ur",
        "hin" => "hi",
        "mar" => "mr",
        "nep" => "ne",
        "ben" => "bn",
        "guj" => "gu",
        "pan" => "pa",
        "ori" => "or",
        "tam" => "ta",
        "tel" => "te",
        "kan" => "kn",
        "mal" => "ml",
        "sin" => "si",
        "tha" => "th",
        "khm" => "km",
        "mya" => "my",
        "vie" => "vi",
        "ind" => "id",
        "jav" => "jv",
        "tgl" => "tl",
        "cmn" => "zh",
        "jpn" => "ja",
        "kor" => "ko",
        "amh" => "am",
        "aka" => "ak",
        "zul" => "zu",
        "sna" => "sn",
        "afr" => "af",
        "lat" => "la",
        "cat" => "ca",
        "cym" => "cy",
        "epo" => "eo",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_languages_are_recognised_by_their_two_letter_code() {
        assert_eq!(
            detect("Bonjour, je n'arrive pas à me connecter à mon compte depuis hier soir."),
            Some("fr")
        );
        assert_eq!(
            detect("Hello, I cannot log in to my account since yesterday evening."),
            Some("en")
        );
        assert_eq!(
            detect("Hallo, ich kann mich seit gestern Abend nicht mehr in mein Konto einloggen."),
            Some("de")
        );
        assert_eq!(detect(""), None);
    }
}
