//! deskgraph: a helpdesk ticketing service. One data model served as a GraphQL API and as the
//! documented Ticketing API v4 (a REST shim that runs GraphQL operations on the same schema).
//!
//! Layers, top to bottom: [`app`] (routes) -> [`graphql`] (schema, resolvers) -> [`domain`]
//! (ticket rules, site-scoped data access) -> [`entity`] (sea-orm tables) -> [`db`].

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entity;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod http_layers;
pub mod live;
pub mod ops;
pub mod rest;
pub mod seed;
pub mod telemetry;
pub mod translate;

pub use error::{Error, Result};
