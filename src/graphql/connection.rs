//! Relay connections of objects that the fast path resolves (tickets, a ticket's messages).
//!
//! async-graphql's `Connection` resolves its edges as a list of generic containers: each edge
//! is a task of its own in a `FuturesOrdered` (2.8 KB each on the inbox), and each edge's
//! `node` and `cursor` another boxed future in a `FuturesUnordered`, before the node itself
//! reaches [`resolve_object`](super::fast::resolve_object). That machinery was 6% of the
//! inbox's instructions. Here the edges are a [`Objects`] list and each edge is resolved by
//! the fast path like its node. The types, names and descriptions are async-graphql's, so the
//! schema does not change.

use std::borrow::Cow;

use async_graphql::connection::PageInfo;
use async_graphql::{Object, ObjectType, TypeName};

use super::fast::{Fast, Objects};

/// A page of `N`s: its edges, their nodes, whether more lie on either side, and the fields
/// `F` adds (a total count).
pub struct Connection<N, F> {
    pub edges: Vec<Edge<N>>,
    pub fields: F,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<N, F> Connection<N, F> {
    pub fn new(has_previous_page: bool, has_next_page: bool, fields: F) -> Self {
        Connection {
            edges: Vec::new(),
            fields,
            has_previous_page,
            has_next_page,
        }
    }
}

#[Object(name_type)]
impl<N: ObjectType, F: ObjectType> Connection<N, F> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: self.edges.last().map(|edge| edge.cursor.clone()),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> Objects<&Edge<N>> {
        Objects(self.edges.iter().collect())
    }

    /// A list of nodes.
    async fn nodes(&self) -> Objects<&N> {
        Objects(self.edges.iter().map(|edge| &edge.node).collect())
    }

    #[graphql(flatten)]
    async fn additional_fields(&self) -> &F {
        &self.fields
    }
}

impl<N: ObjectType, F: ObjectType> TypeName for Connection<N, F> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

/// An edge in a connection.
pub struct Edge<N> {
    pub cursor: String,
    pub node: N,
}

impl<N> Edge<N> {
    pub fn new(cursor: String, node: N) -> Self {
        Edge { cursor, node }
    }
}

/// An edge in a connection.
#[Object(name_type)]
impl<N: ObjectType> Edge<N> {
    /// The item at the end of the edge
    async fn node(&self) -> Fast<&N> {
        Fast(&self.node)
    }

    /// A cursor for use in pagination
    async fn cursor(&self) -> &str {
        &self.cursor
    }
}

impl<N: ObjectType> TypeName for Edge<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", N::type_name()).into()
    }
}
