//! The one way operations run: under the limits, within the timeout, counted in the metrics.
//!
//! This is deliberately not an async-graphql extension. With any extension installed,
//! async-graphql builds a `ResolveInfo` (a type-name string, two registry look-ups) and boxes
//! one future per extension for every field and every list item it resolves. The inbox
//! resolves about 1,400 of those per request; doing the same checks once, around the
//! operation, costs nothing per field.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType};
use async_graphql::{
    ErrorExtensionValues, Name, Positioned, Request, Response, ServerError, Value as ConstValue,
};
use futures_util::stream::{self, BoxStream, StreamExt};

use super::fits::InputTypes;
use super::limits::{self, GraphqlLimits, PARSE_FAILED, ServerBuilt, VALIDATION_FAILED};
use super::{AppSchema, Mutation, Query, Subscription};
use crate::Error;

/// async-graphql's message when an operation is over `limit_complexity`.
const TOO_COMPLEX: &str = "Query is too complex.";
/// How async-graphql's messages for a value it could not parse begin (`InputValueError`'s
/// `custom` and `expected_type`).
const COERCION_FAILED: &[&str] = &["Failed to parse \"", "Expected input type \""];

/// Runs GraphQL operations for every face (HTTP, WebSocket, the REST shim).
#[derive(Clone)]
pub struct Executor {
    /// Client documents: complexity limited.
    public: Modes,
    /// Documents the server wrote itself ([`ServerBuilt`]): their shape is fixed and
    /// reviewed, so only the timeout applies.
    trusted: Modes,
    limits: Arc<GraphqlLimits>,
    documents: Arc<Documents>,
    inputs: Arc<InputTypes>,
}

/// One schema in async-graphql's two validation modes. `strict` applies every rule of the
/// spec; `fast` only what does not depend on the document alone (complexity, depth). A kept
/// document that passed `strict` once runs on `fast` while its variables' values surely fit
/// their types ([`InputTypes::values_fit`]): strict validation was a quarter of scenario 3's
/// instructions (callgrind; 8% remain in fast mode), for the same verdict every time.
#[derive(Clone)]
pub struct Modes {
    pub strict: AppSchema,
    pub fast: AppSchema,
}

/// Documents already parsed, by their text. A console sends the same few documents again and
/// again, and the REST shim writes one per route and `include`; async-graphql's parser costs
/// more than cloning its result (about a sixth of all instructions for scenario 3's
/// document, callgrind).
#[derive(Default)]
struct Documents {
    parsed: Mutex<HashMap<String, Arc<Parsed>>>,
}

struct Parsed {
    document: ExecutableDocument,
    /// [`limits::check`]'s verdict (client documents only; `None` until checked).
    verdict: Option<Result<(), String>>,
    /// Whether the document passed async-graphql's strict validation once. Every rule but
    /// the one checking variables' values looks at the document alone.
    validated: AtomicBool,
}

/// Most documents kept, and the longest kept: enough for every console's queries, and a client
/// sending endless distinct documents only churns the cache.
const DOCUMENTS_MAX: usize = 512;
const DOCUMENT_MAX_LEN: usize = 16 * 1024;

impl Documents {
    fn get(&self, query: &str) -> Option<Arc<Parsed>> {
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(query)
            .cloned()
    }

    fn keep(&self, query: &str, parsed: Arc<Parsed>) {
        if query.len() > DOCUMENT_MAX_LEN {
            return;
        }
        let mut all = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= DOCUMENTS_MAX && !all.contains_key(query) {
            // Any one goes: the documents in use come straight back.
            if let Some(key) = all.keys().next().cloned() {
                all.remove(&key);
            }
        }
        all.insert(query.to_owned(), parsed);
    }
}

impl Executor {
    pub fn new(schema: Modes, trusted: Modes, limits: &GraphqlLimits) -> Self {
        Executor {
            public: schema,
            trusted,
            limits: Arc::new(limits.clone()),
            documents: Arc::default(),
            inputs: Arc::new(InputTypes::of::<Query, Mutation, Subscription>()),
        }
    }

    /// Runs a query or mutation.
    pub async fn execute(&self, mut request: Request) -> Response {
        let trusted = is_trusted(&request);
        let parsed = match self.admit(&mut request, trusted) {
            Ok(parsed) => parsed,
            Err(refused) => {
                count(None, &refused);
                return refused;
            }
        };
        let chosen = chosen(&parsed.document, request.operation_name.as_deref());
        let writes = chosen.is_some_and(|(_, op)| op.node.ty == OperationType::Mutation);
        let name = request.operation_name.clone();
        let name = name.or_else(|| chosen.and_then(|(n, _)| n.map(|n| n.to_string())));
        let fast = parsed.validated.load(Ordering::Relaxed)
            && chosen.is_some_and(|(_, op)| self.inputs.values_fit(op, &request.variables));
        let modes = if trusted { &self.trusted } else { &self.public };
        let schema = if fast { &modes.fast } else { &modes.strict }.clone();
        let limit = self.limits.request_timeout;
        let run = async move { tokio::time::timeout(limit, schema.execute(request)).await };
        // A mutation runs in a task of its own, so a client that leaves mid-flight does not
        // cancel it: it commits and announces its changes as it would have, instead of
        // stopping wherever the request was dropped (possibly after the commit, before the
        // announcement).
        let outcome = match writes {
            true => tokio::spawn(run).await.unwrap_or_else(|e| {
                let error = Error::Internal(e.into());
                tracing::error!(error = %error, "a mutation's task failed");
                Ok(failure(&error))
            }),
            false => run.await,
        };
        let response = match outcome {
            Ok(response) => {
                if !fast && passed_validation(&response) {
                    parsed.validated.store(true, Ordering::Relaxed);
                }
                self.explain(response)
            }
            Err(_) => failure(&Error::Timeout(format!(
                "the operation did not finish within {} ms and was stopped",
                limit.as_millis()
            ))),
        };
        count(name.as_deref(), &response);
        response
    }

    /// Runs a subscription (or any operation) as a stream of responses.
    pub fn execute_stream(&self, mut request: Request) -> BoxStream<'static, Response> {
        let trusted = is_trusted(&request);
        if let Err(refused) = self.admit(&mut request, trusted) {
            return stream::once(async move { refused }).boxed();
        }
        let this = self.clone();
        self.public
            .strict
            .execute_stream(request)
            .map(move |response| this.explain(response))
            .boxed()
    }

    /// Parses the document once (async-graphql then uses it instead of parsing again), or
    /// takes it from the documents already parsed, and, for client documents, checks it
    /// against the limits before async-graphql walks it.
    fn admit(&self, request: &mut Request, trusted: bool) -> Result<Arc<Parsed>, Response> {
        let kept = self.documents.get(&request.query);
        let parsed = match kept {
            Some(parsed) if trusted || parsed.verdict.is_some() => {
                request.set_parsed_query(parsed.document.clone());
                parsed
            }
            _ => {
                let document = request
                    .parsed_query()
                    .map_err(|e| Response::from_errors(vec![with_code(e, PARSE_FAILED)]))?;
                let verdict = (!trusted).then(|| limits::check(document, &self.limits));
                let parsed = Arc::new(Parsed {
                    document: document.clone(),
                    verdict,
                    validated: AtomicBool::new(false),
                });
                self.documents.keep(&request.query, parsed.clone());
                parsed
            }
        };
        match &parsed.verdict {
            Some(Err(message)) if !trusted => Err(Response::from_errors(vec![with_code(
                ServerError::new(message.clone(), None),
                VALIDATION_FAILED,
            )])),
            _ => Ok(parsed),
        }
    }

    /// Gives request errors (validation, unknown operation, bad variables: errors before
    /// anything ran, so with no path and no data) the code GraphQL over HTTP needs to answer
    /// 400, and the complexity error a message that names the limit. A scalar async-graphql
    /// parses only as its field runs (a malformed `UUID`) fails at that field: that is a value
    /// GraphQL cannot coerce too, and gets the same code.
    fn explain(&self, mut response: Response) -> Response {
        let ran = !matches!(response.data, async_graphql::Value::Null);
        for error in &mut response.errors {
            if !error.path.is_empty() {
                if COERCION_FAILED.iter().any(|p| error.message.starts_with(p)) {
                    set_code(error, VALIDATION_FAILED);
                }
                continue;
            }
            if ran {
                continue;
            }
            if error.message == TOO_COMPLEX {
                error.message = format!(
                    "the query's complexity is over the limit of {} (a connection costs its `first` or `last`, {} when not given, times its fields): ask for smaller pages or fewer fields",
                    self.limits.graphql_max_complexity,
                    limits::DEFAULT_PAGE
                );
            }
            set_code(error, VALIDATION_FAILED);
        }
        response
    }
}

/// Whether the operation got past validation: it produced data, or errors from its fields.
/// Request errors (validation, a bad variable, an unknown operation) come with neither.
fn passed_validation(response: &Response) -> bool {
    !matches!(response.data, ConstValue::Null) || response.errors.iter().any(|e| !e.path.is_empty())
}

/// The operation async-graphql will run (the one the request names, or the document's only
/// one), and its name.
fn chosen<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<(Option<&'d Name>, &'d Positioned<OperationDefinition>)> {
    match name {
        Some(name) => document
            .operations
            .iter()
            .find(|(n, _)| n.is_some_and(|n| n == name)),
        None => {
            let mut operations = document.operations.iter();
            operations.next().filter(|_| operations.next().is_none())
        }
    }
}

fn is_trusted(request: &Request) -> bool {
    request
        .data
        .contains_key(&std::any::TypeId::of::<ServerBuilt>())
}

/// An operation that produced no data: the error's public message and code.
fn failure(error: &Error) -> Response {
    Response::from_errors(vec![with_code(
        ServerError::new(error.public_message(), None),
        error.code(),
    )])
}

/// Counts the operation in `deskgraph_graphql_operations_total` and names it in the log line.
fn count(name: Option<&str>, response: &Response) {
    let label = super::metrics::label_for(name);
    crate::ops::note_operation(&label);
    metrics::counter!("deskgraph_graphql_operations_total",
        "operation" => label, "outcome" => super::metrics::outcome(response))
    .increment(1);
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    set_code(&mut error, code);
    error
}

/// Sets `extensions.code` unless the error already has one.
fn set_code(error: &mut ServerError, code: &str) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default)
            .set("code", code);
    }
}
