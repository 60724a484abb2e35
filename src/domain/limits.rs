//! Every size limit of the API in one place. Inputs are checked against these before anything
//! is written, and a breach is a `BAD_USER_INPUT` naming the field. Lengths of text count
//! characters; sizes of bodies count bytes.

/// A ticket's subject.
pub const SUBJECT_MAX: usize = 1000;
/// Names: agents, departments, chatbots, contacts, visitors, tags, views.
pub const NAME_MAX: usize = 200;
/// The longest address RFC 5321 lets through (64 + 1 + 255).
pub const EMAIL_MAX: usize = 320;
/// BCP 47 asks implementations to take tags of at least 35 characters; nothing real is longer.
pub const LANGUAGE_MAX: usize = 35;
pub const PHONE_MAX: usize = 50;
/// Descriptions of departments.
pub const DESCRIPTION_MAX: usize = 1000;
/// Identifiers from outside: channel ids, conversation ids, message statuses and the like.
pub const SHORT_TEXT_MAX: usize = 200;
/// The value of a view condition.
pub const CONDITION_VALUE_MAX: usize = 1000;
/// More conditions than this is not a view anyone can read, and each one costs every query
/// that evaluates the view.
pub const CONDITIONS_MAX: usize = 50;
/// Bodies are stored inline, data URIs included; a cap keeps one message from bloating every
/// page of its ticket.
pub const BODY_MAX_BYTES: usize = 1024 * 1024;
/// Channel data beside a message or draft; generous, since an email's quoted thread can ride
/// in it, but bounded like the body.
pub const METADATA_MAX_BYTES: usize = 1024 * 1024;
pub const MAX_ATTACHMENTS: usize = 20;
/// Enough for any real mention list, small enough to keep one note's writes bounded.
pub const MAX_MENTIONS: usize = 100;
/// Attachment names and types.
pub const ATTACHMENT_TEXT_MAX: usize = 500;
pub const URL_MAX: usize = 2000;
/// Search words for the ticket list and the directory.
pub const KEYWORDS_MAX: usize = 200;
/// Tags named in one request (a ticket's tags, tags to add or remove).
pub const TAG_IDS_MAX: usize = 100;
/// Text sent for a translation preview.
pub const TRANSLATION_TEXT_MAX: usize = 20_000;
/// An `Idempotency-Key`: room for a UUID or a client's own scheme, not for a payload.
pub const IDEMPOTENCY_KEY_MAX: usize = 255;
