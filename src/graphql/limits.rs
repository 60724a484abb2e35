//! Limits on what one GraphQL operation may ask for, enforced before anything executes, so a
//! single request cannot make the server do unbounded work.
//!
//! Depth, aliases, root fields, directives and the expanded size are counted here over the
//! parsed document, with fragment spreads expanded (an attacker will use fragments to hide
//! them) and each fragment counted once and memoised, so counting itself stays linear in the
//! document even when fragments spread each other many times. Complexity is async-graphql's
//! own figure, in which connection fields cost their page size times their children
//! ([`list_cost`]). [`super::exec`] applies all of them to every client document.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned};
use clap::{ArgAction, Args};

use crate::config::parse_duration;

/// Page size a connection is assumed to return when the query gives neither `first` nor `last`.
pub(super) const DEFAULT_PAGE: usize = 20;

/// The limits of the GraphQL endpoint. Every default lets a normal console query through (the
/// inbox: 50 tickets with tags, assignee, contact, last message and draft).
#[derive(Debug, Clone, Args)]
pub struct GraphqlLimits {
    /// Deepest nesting of fields (introspection's `__schema`/`__type` are not counted).
    #[arg(long, env = "DESKGRAPH_GRAPHQL_MAX_DEPTH", default_value_t = 10)]
    pub graphql_max_depth: usize,
    /// Highest complexity: a field costs 1, a connection its `first`/`last` (20 when not given)
    /// times its fields.
    #[arg(
        long,
        env = "DESKGRAPH_GRAPHQL_MAX_COMPLEXITY",
        default_value_t = 10_000
    )]
    pub graphql_max_complexity: usize,
    /// Most aliased fields in a document, `__typename` included.
    #[arg(long, env = "DESKGRAPH_GRAPHQL_MAX_ALIASES", default_value_t = 30)]
    pub graphql_max_aliases: usize,
    /// Most fields at the top of one operation.
    #[arg(long, env = "DESKGRAPH_GRAPHQL_MAX_ROOT_FIELDS", default_value_t = 20)]
    pub graphql_max_root_fields: usize,
    /// Most directives in a document.
    #[arg(long, env = "DESKGRAPH_GRAPHQL_MAX_DIRECTIVES", default_value_t = 30)]
    pub graphql_max_directives: usize,
    /// Most operations in one batched request (a JSON array); 0 refuses batches.
    #[arg(long, env = "DESKGRAPH_GRAPHQL_MAX_BATCH", default_value_t = 0)]
    pub graphql_max_batch: usize,
    /// Answer introspection queries (GraphiQL needs them); `false` for production.
    #[arg(long, env = "DESKGRAPH_GRAPHQL_INTROSPECTION", default_value_t = true, action = ArgAction::Set)]
    pub graphql_introspection: bool,
    /// Suggest field names in errors ("did you mean"); `false` for production.
    #[arg(long, env = "DESKGRAPH_GRAPHQL_SUGGESTIONS", default_value_t = true, action = ArgAction::Set)]
    pub graphql_suggestions: bool,
    /// Longest a GraphQL operation (or a REST call) may run, like `30s`.
    #[arg(long, env = "DESKGRAPH_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
}

impl GraphqlLimits {
    /// The schema builder with the limits async-graphql itself enforces; the others are
    /// checked by [`super::exec::Executor`].
    pub fn apply<Q, M, S>(
        &self,
        builder: async_graphql::SchemaBuilder<Q, M, S>,
    ) -> async_graphql::SchemaBuilder<Q, M, S> {
        let mut builder = builder;
        if !self.graphql_introspection {
            builder = builder.disable_introspection();
        }
        if !self.graphql_suggestions {
            builder = builder.disable_suggestions();
        }
        builder
    }
}

/// The complexity of a list field paged by `first` or `last`: each item costs its children.
pub fn list_cost(first: Option<impl TryInto<usize>>, child_complexity: usize) -> usize {
    let page = first
        .and_then(|n| n.try_into().ok())
        .unwrap_or(DEFAULT_PAGE);
    page.saturating_mul(child_complexity).saturating_add(1)
}

/// Marks a request whose document the server wrote itself (the REST shim): its shape is
/// fixed and reviewed, so the operation limits do not apply; the timeout still does.
pub struct ServerBuilt;

/// The code GraphQL-over-HTTP uses to tell a request error (400 with
/// `application/graphql-response+json`) from a field error.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";

/// What a selection set amounts to with its fragments expanded.
#[derive(Clone, Copy, Default)]
struct Size {
    fields: u64,
    aliases: u64,
    directives: u64,
    depth: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.depth = self.depth.max(other.depth);
    }
}

/// Checks the document against the limits; the error names the limit exceeded.
pub(super) fn check(doc: &ExecutableDocument, limits: &GraphqlLimits) -> Result<(), String> {
    let mut walk = Walk {
        doc,
        sizes: HashMap::new(),
        roots: HashMap::new(),
        visiting: HashSet::new(),
    };
    let mut total = Size::default();
    let mut most_roots = 0u64;
    for (_, operation) in doc.operations.iter() {
        let op = &operation.node;
        let mut size = walk.selection_set(&op.selection_set.node, true)?;
        size.directives = size.directives.saturating_add(op.directives.len() as u64);
        total.add(size);
        most_roots = most_roots.max(walk.root_fields(&op.selection_set.node));
    }
    let exceeded = |what: &str, n: u64, max: usize, hint: &str| {
        (n > max as u64).then(|| format!("the query has {n} {what}, over the limit of {max}{hint}"))
    };
    let problems = [
        exceeded(
            "levels of nested fields",
            total.depth,
            limits.graphql_max_depth,
            "",
        ),
        exceeded(
            "aliased fields",
            total.aliases,
            limits.graphql_max_aliases,
            " (fragments counted each time they are spread)",
        ),
        exceeded(
            "fields at the top of one operation",
            most_roots,
            limits.graphql_max_root_fields,
            "",
        ),
        exceeded(
            "directives",
            total.directives,
            limits.graphql_max_directives,
            " (fragments counted each time they are spread)",
        ),
        // Every field costs at least 1, so more fields than the complexity limit can never
        // pass; refusing here spares async-graphql's own walks a huge expansion.
        exceeded(
            "fields with its fragments expanded",
            total.fields,
            limits.graphql_max_complexity,
            " (the complexity limit)",
        ),
    ];
    match problems.into_iter().flatten().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    sizes: HashMap<&'a Name, Size>,
    roots: HashMap<&'a Name, u64>,
    visiting: HashSet<&'a Name>,
}

impl<'a> Walk<'a> {
    /// `introspection_free`: whether depth still counts (it stops under `__schema`/`__type`,
    /// whose shape the schema bounds).
    fn selection_set(&mut self, set: &'a SelectionSet, counts_depth: bool) -> Result<Size, String> {
        let mut size = Size::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let introspection = name == "__schema" || name == "__type";
                    let mut inner = self
                        .selection_set(&field.selection_set.node, counts_depth && !introspection)?;
                    inner.depth = if counts_depth && !introspection {
                        inner.depth + 1
                    } else {
                        0
                    };
                    inner.fields = inner.fields.saturating_add(1);
                    inner.aliases = inner
                        .aliases
                        .saturating_add(u64::from(field.alias.is_some()));
                    inner.directives = inner
                        .directives
                        .saturating_add(field.directives.len() as u64);
                    size.add(inner);
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    let mut inner = self.fragment(&spread.fragment_name)?;
                    if !counts_depth {
                        inner.depth = 0;
                    }
                    inner.directives = inner
                        .directives
                        .saturating_add(spread.directives.len() as u64);
                    size.add(inner);
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let mut inner = self.selection_set(&inline.selection_set.node, counts_depth)?;
                    inner.directives = inner
                        .directives
                        .saturating_add(inline.directives.len() as u64);
                    size.add(inner);
                }
            }
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &'a Positioned<Name>) -> Result<Size, String> {
        let name = &name.node;
        if let Some(size) = self.sizes.get(name) {
            return Ok(*size);
        }
        // An unknown fragment is left to validation, which names it.
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(Size::default());
        };
        if !self.visiting.insert(name) {
            return Err(format!("fragment `{name}` spreads itself"));
        }
        let size = self.selection_set(&fragment.node.selection_set.node, true)?;
        self.visiting.remove(name);
        self.sizes.insert(name, size);
        Ok(size)
    }

    /// Fields at the top of an operation, fragments at the top expanded. Runs after
    /// [`Walk::selection_set`] has refused cycles.
    fn root_fields(&mut self, set: &'a SelectionSet) -> u64 {
        let mut n = 0u64;
        for item in &set.items {
            let more = match &item.node {
                Selection::Field(_) => 1,
                Selection::InlineFragment(inline) => {
                    self.root_fields(&inline.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match (self.roots.get(name), self.doc.fragments.get(name)) {
                        (Some(n), _) => *n,
                        (None, Some(fragment)) => {
                            let n = self.root_fields(&fragment.node.selection_set.node);
                            self.roots.insert(name, n);
                            n
                        }
                        (None, None) => 0,
                    }
                }
            };
            n = n.saturating_add(more);
        }
        n
    }
}
