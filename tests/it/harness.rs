//! Test harness: each test gets its own database and its own server on a free port, and talks
//! to it over HTTP like any client.
//!
//! The backend comes from `DESKGRAPH_TEST_DATABASE_URL`: unset, every test gets a fresh SQLite
//! file; `postgres://USER@HOST:PORT/DB` names a server on which every test gets a fresh
//! database, cloned from a migrated template (built once per migration set, under an advisory
//! lock, so parallel tests and test binaries share it safely). An unreachable PostgreSQL fails
//! the test; it never falls back to SQLite.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deskgraph::app::{self, AppState};
use deskgraph::auth::Auth;
use deskgraph::config::{DatabaseConfig, ServeConfig};
use deskgraph::domain::sites::{self, NewSite};
use reqwest::StatusCode;
use sea_orm::DatabaseConnection;
use sea_orm::sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use serde_json::{Value, json};

pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn create() -> TestDb {
        // The tests' own HTTP clients share the server's TLS setup.
        deskgraph::translate::install_crypto_provider();
        match std::env::var("DESKGRAPH_TEST_DATABASE_URL") {
            Ok(admin) if admin.starts_with("postgres") => {
                let name = format!("dg_test_{}", uuid::Uuid::new_v4().simple());
                let template = pg_template(&admin).await;
                let mut conn = pg_admin(&admin).await;
                create_from_template(&mut conn, &name, &template).await;
                let url = pg_url_for(&admin, &name);
                TestDb {
                    url,
                    _dir: None,
                    pg: Some((admin, name)),
                }
            }
            Ok(other) if !other.is_empty() => {
                panic!("DESKGRAPH_TEST_DATABASE_URL must be a postgres:// URL, got {other}")
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg: None,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    pub fn config(&self) -> DatabaseConfig {
        DatabaseConfig {
            database_url: self.url.clone(),
            db_max_connections: 5,
            // Generous: on a loaded CI machine opening a fresh SQLite file (WAL, fsync) has
            // taken over 3 s, and no test here is about the acquire timeout.
            db_acquire_timeout: std::time::Duration::from_secs(30),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect(&admin).await {
                        let _ = ddl(
                            &mut conn,
                            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        )
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Runs one statement built at run time (database names cannot be bound as parameters).
async fn ddl(conn: &mut PgConnection, sql: String) -> Result<(), sea_orm::sqlx::Error> {
    sea_orm::sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(|_| ())
}

async fn pg_admin(admin: &str) -> PgConnection {
    PgConnection::connect(admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is not reachable: {e}"))
}

fn pg_url_for(admin: &str, db: &str) -> String {
    let (base, _) = admin
        .rsplit_once('/')
        .expect("postgres URL with a database name");
    format!("{base}/{db}")
}

async fn create_from_template(conn: &mut PgConnection, name: &str, template: &str) {
    // Concurrent clones of one template can collide ("source database is being accessed");
    // retry briefly rather than serialising every test.
    for attempt in 0..50 {
        match ddl(conn, format!("CREATE DATABASE {name} TEMPLATE {template}")).await {
            Ok(_) => return,
            Err(e) if attempt < 49 && e.to_string().contains("being accessed by other users") => {
                tokio::time::sleep(Duration::from_millis(20 + attempt * 5)).await
            }
            Err(e) => panic!("could not create test database {name}: {e}"),
        }
    }
}

/// The migrated template for the current migration sources, built once.
async fn pg_template(admin: &str) -> String {
    let template = format!("dg_tpl_{}", migrations_fingerprint());
    let mut conn = pg_admin(admin).await;
    conn.execute("SELECT pg_advisory_lock(724011)")
        .await
        .unwrap();
    let exists: Option<(i32,)> =
        sea_orm::sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(&template)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
    if exists.is_none() {
        let building = format!("{template}_building");
        ddl(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
        )
        .await
        .unwrap();
        ddl(&mut conn, format!("CREATE DATABASE {building}"))
            .await
            .unwrap();
        let config = DatabaseConfig {
            database_url: pg_url_for(admin, &building),
            db_max_connections: 1,
            db_acquire_timeout: std::time::Duration::from_secs(30),
        };
        let db = deskgraph::db::connect(&config).await.unwrap();
        deskgraph::db::migrate(&db).await.unwrap();
        db.close().await.unwrap();
        ddl(
            &mut conn,
            format!("ALTER DATABASE {building} RENAME TO {template}"),
        )
        .await
        .unwrap();
    }
    conn.execute("SELECT pg_advisory_unlock(724011)")
        .await
        .unwrap();
    template
}

/// A hash of the migration sources: a changed migration gets a new template.
fn migrations_fingerprint() -> String {
    use std::hash::{Hash, Hasher};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/src");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        std::fs::read(&f).unwrap().hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// A running server on its own database, with one site and a token for its admin.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub auth: Auth,
    pub site: NewSite,
    pub token: String,
    /// The SQL the server runs, for tests that count queries; records only when started.
    pub sql: SqlLog,
    #[allow(dead_code)] // held so the database lives as long as the server
    pub test_db: TestDb,
}

/// Records the SQL statements that the server (not the test's own `db`) runs between
/// [`SqlLog::start`] and [`SqlLog::stop`].
#[derive(Clone, Default)]
pub struct SqlLog {
    recording: Arc<AtomicBool>,
    statements: Arc<Mutex<Vec<String>>>,
}

impl SqlLog {
    fn record(&self, sql: &str) {
        if self.recording.load(Ordering::SeqCst) {
            self.statements.lock().unwrap().push(sql.to_owned());
        }
    }

    pub fn start(&self) {
        self.statements.lock().unwrap().clear();
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Stops recording; returns what was run since [`SqlLog::start`].
    pub fn stop(&self) -> Vec<String> {
        self.recording.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.statements.lock().unwrap())
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A server that sends translations to the LibreTranslate-compatible service at `url`.
    pub async fn spawn_with_translator(translate_url: Option<&str>) -> TestApp {
        let url = translate_url.map(str::to_owned);
        Self::spawn_with(move |config| config.translate_url = url).await
    }

    /// A server whose settings start at the defaults and are then changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
        let mut config = ServeConfig::default();
        config.translate_url = None;
        configure(&mut config);
        let test_db = TestDb::create().await;
        let db = deskgraph::db::connect(&test_db.config())
            .await
            .expect("connect to test database");
        deskgraph::db::migrate(&db).await.expect("migrate");
        let auth = Auth::from_secret(TEST_SECRET.as_bytes());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let sql = SqlLog::default();
        let log = sql.clone();
        let server_db = deskgraph::db::observe_statements(db.clone(), move |sql| log.record(sql));
        let state = AppState::new(server_db, auth.clone(), &config).expect("server settings");
        assert!(
            state.live.ready(Duration::from_secs(10)).await,
            "live updates listening"
        );
        let router = app::router(state);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let site = sites::create_site(&db, "Test site").await.unwrap();
        let token = auth
            .issue(&site.principal(), Duration::from_secs(3600))
            .unwrap();
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            db,
            auth,
            site,
            token,
            sql,
            test_db,
        }
    }

    /// A second, unrelated site and a token for its admin.
    pub async fn other_site(&self) -> (NewSite, String) {
        let site = sites::create_site(&self.db, "Other site").await.unwrap();
        let token = self
            .auth
            .issue(&site.principal(), Duration::from_secs(3600))
            .unwrap();
        (site, token)
    }

    /// Posts a GraphQL request with the given bearer token (or none); returns status and body.
    pub async fn graphql_with(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({
                "query": query,
                "variables": variables,
            }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let body = res.json::<Value>().await.expect("JSON body");
        (status, body)
    }

    /// Runs a GraphQL operation as the site admin and returns its `data`, failing the test on
    /// any error.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql_with(Some(&self.token), query, variables).await;
        assert_eq!(status, StatusCode::OK, "unexpected status; body: {body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs a GraphQL operation expected to fail; returns the status and the first error.
    pub async fn graphql_error(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let (status, body) = self.graphql_with(Some(&self.token), query, variables).await;
        let error = body["errors"]
            .get(0)
            .cloned()
            .unwrap_or_else(|| panic!("expected an error, got {body}"));
        (status, error)
    }
}

/// Records a test needs before the API can create them itself, inserted into a site.
pub mod fixtures {
    use deskgraph::domain::now;
    use deskgraph::entity::*;
    use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
    use uuid::Uuid;

    pub async fn contact(db: &DatabaseConnection, site_id: Uuid, name: &str) -> Uuid {
        contacts::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set(name.into()),
            email: Set(Some(format!(
                "{}@example.com",
                name.to_lowercase().replace(' ', ".")
            ))),
            phone: Set(None),
            language: Set("en".into()),
            created_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }

    pub async fn visitor(db: &DatabaseConnection, site_id: Uuid, name: &str) -> Uuid {
        visitors::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set(name.into()),
            email: Set(None),
            language: Set(String::new()),
            created_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }

    pub async fn department(db: &DatabaseConnection, site_id: Uuid, name: &str) -> Uuid {
        departments::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set(name.into()),
            description: Set(String::new()),
            created_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }

    /// An agent of the site (role `agent`), addressed `<name>@example.com`.
    pub async fn agent(db: &DatabaseConnection, site_id: Uuid, name: &str) -> Uuid {
        agents::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set(name.into()),
            email: Set(format!("{}@example.com", name.to_lowercase())),
            role: Set(AgentRole::Agent),
            is_active: Set(true),
            language: Set("en".into()),
            created_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }

    pub async fn chatbot(db: &DatabaseConnection, site_id: Uuid, name: &str) -> Uuid {
        chatbots::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set(name.into()),
            is_active: Set(true),
            created_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }
}

/// Tags and views, until tests create them through the API.
pub mod vocabulary {
    use deskgraph::domain::now;
    use deskgraph::entity::*;
    use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
    use uuid::Uuid;

    pub async fn tag(db: &DatabaseConnection, site_id: Uuid, name: &str) -> Uuid {
        tags::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set(name.into()),
            created_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }

    /// A shared view with `(field, operator, value)` conditions.
    pub async fn view(
        db: &DatabaseConnection,
        site_id: Uuid,
        met: ConditionMetType,
        conditions: &[(&str, &str, &str)],
    ) -> Uuid {
        let view = views::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(site_id),
            name: Set("view".into()),
            is_private: Set(false),
            created_by_id: Set(None),
            condition_met_type: Set(met),
            created_time: Set(now()),
            last_updated_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap();
        for (i, (field, op, value)) in conditions.iter().enumerate() {
            view_conditions::ActiveModel {
                id: Set(Uuid::now_v7()),
                site_id: Set(site_id),
                view_id: Set(view.id),
                position: Set(i as i32),
                field_name: Set((*field).into()),
                operator: Set((*op).into()),
                value: Set((*value).into()),
            }
            .insert(db)
            .await
            .unwrap();
        }
        view.id
    }
}
