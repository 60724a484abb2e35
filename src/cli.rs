//! The `deskgraph` command line: serve (the default), migrate, schema, site, token.

use std::time::Duration;

use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::auth::Auth;
use crate::config::{AuthConfig, DatabaseConfig, ServeConfig, parse_duration};
use crate::domain::{Principal, sites};
use crate::{app, db, demo};

#[derive(Debug, Parser)]
#[command(
    name = "deskgraph",
    version,
    about = "Helpdesk ticketing service: GraphQL API and Ticketing API v4 REST shim"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default): migrates first, creates a demo site on an empty database.
    Serve(ServeConfig),
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Print a bearer token for an agent of a site.
    Token {
        #[arg(long)]
        site: Uuid,
        #[arg(long)]
        agent: Uuid,
        /// How long the token is valid: 90s, 15m, 24h, 7d.
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        ttl: Duration,
    },
    /// Fill a site (a new one unless --site) with realistic bulk data for benchmarks; prints
    /// {"siteId","agentId","token","tickets","seconds"}.
    Seed {
        #[arg(long)]
        tickets: usize,
        #[arg(long)]
        site: Option<Uuid>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Create a site with one admin agent; prints {"siteId","agentId","token"}.
    Create {
        #[arg(long)]
        name: String,
    },
}

const DEMO_TOKEN_TTL: Duration = Duration::from_secs(7 * 86_400);
const SITE_TOKEN_TTL: Duration = Duration::from_secs(86_400);

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Schema) => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Some(Command::Migrate) => {
            let db = db::connect(&cli.database).await?;
            db::migrate(&db).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Some(Command::Site(SiteCommand::Create { name })) => {
            let (db, auth) = open(&cli.database, &cli.auth).await?;
            let site = sites::create_site(&db, &name).await?;
            let token = auth.issue(&site.principal(), SITE_TOKEN_TTL)?;
            let out = serde_json::json!({ "siteId": site.site.id, "agentId": site.admin.id, "token": token });
            println!("{out}");
            Ok(())
        }
        Some(Command::Token { site, agent, ttl }) => {
            let (db, auth) = open(&cli.database, &cli.auth).await?;
            let principal = Principal {
                site_id: site,
                agent_id: agent,
            };
            if sites::active_agent(&db, &principal).await?.is_none() {
                anyhow::bail!("no active agent {agent} in site {site}");
            }
            println!("{}", auth.issue(&principal, ttl)?);
            Ok(())
        }
        Some(Command::Seed { tickets, site }) => {
            let (db, auth) = open(&cli.database, &cli.auth).await?;
            let started = std::time::Instant::now();
            let seeded = crate::seed::seed(&db, site, tickets).await?;
            let token = auth.issue(&seeded.principal, SITE_TOKEN_TTL)?;
            let out = serde_json::json!({
                "siteId": seeded.principal.site_id, "agentId": seeded.principal.agent_id, "token": token,
                "tickets": seeded.tickets, "seconds": started.elapsed().as_secs_f64(),
            });
            println!("{out}");
            Ok(())
        }
        Some(Command::Serve(serve_config)) => serve(cli.database, cli.auth, serve_config).await,
        None => {
            // No subcommand: serve, with settings from the environment and defaults.
            serve(cli.database, cli.auth, ServeConfig::default()).await
        }
    }
}

/// Connects, migrates and loads the signing key: what every command touching data needs.
async fn open(
    database: &DatabaseConfig,
    auth: &AuthConfig,
) -> anyhow::Result<(sea_orm::DatabaseConnection, Auth)> {
    let db = db::connect(database).await?;
    db::migrate(&db).await?;
    let auth = Auth::load(&db, auth.jwt_secret.as_deref()).await?;
    Ok((db, auth))
}

async fn serve(
    database: DatabaseConfig,
    auth: AuthConfig,
    config: ServeConfig,
) -> anyhow::Result<()> {
    let (db, auth) = open(&database, &auth).await?;
    let demo = if config.no_demo {
        None
    } else {
        demo::ensure(&db).await?
    };
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    println!("deskgraph listening on http://{addr}");
    println!("GraphiQL: http://{addr}/graphql");
    if let Some(principal) = demo {
        println!(
            "Demo site {} (agent {})",
            principal.site_id, principal.agent_id
        );
        println!("Token: {}", auth.issue(&principal, DEMO_TOKEN_TTL)?);
    }
    let state = app::AppState::new(db.into(), auth, &config)?;
    let shutdown = state.shutdown.clone();
    if !state.live.ready(LIVE_READY_WAIT).await {
        tracing::warn!("live updates are not listening yet; subscribers may miss changes");
    }
    let app = app::router(state);
    let stop = shutdown.clone();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests and closing subscriptions");
            stop.begin();
        })
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => served?,
        _ = shutdown.stopping() => {
            // axum stops accepting and waits for in-flight requests; WebSocket connections
            // (which it does not track once upgraded) complete their subscriptions and close.
            // All of it within the grace period, after which the process exits regardless.
            let finished = async {
                let served = (&mut server).await;
                shutdown.drained().await;
                served
            };
            match tokio::time::timeout(config.shutdown_grace, finished).await {
                Ok(served) => served?,
                Err(_) => tracing::warn!(
                    grace = ?config.shutdown_grace,
                    "grace period over: exiting with requests or subscriptions still open"
                ),
            }
        }
    }
    Ok(())
}

/// How long a start waits for the live-updates listener before serving anyway.
const LIVE_READY_WAIT: Duration = Duration::from_secs(10);

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
