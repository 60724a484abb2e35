//! Integration tests: a real server on a free port, a real database per test (SQLite, or
//! PostgreSQL when `DESKGRAPH_TEST_DATABASE_URL` names one), spoken to over HTTP.

mod harness;
mod process;

mod language;
mod lifecycle;

mod auth;
mod batching;
mod cli;
mod concurrency;
mod conversation;
mod directory;
mod durability;
mod fuzz;
mod graphiql;
mod graphql_http;
mod idempotency;
mod isolation;
mod kept_counts;
mod limits;
mod live;
mod ops;
mod read_connections;
mod rest;
mod schema;
mod seed;
mod shutdown;
mod ticket_columns;
mod ticket_list;
mod ticket_mutations;
mod tickets;
mod uniqueness;
