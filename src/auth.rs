//! Bearer tokens: a JWT naming one agent of one site, signed with the instance key.
//! One algorithm (HS256) is accepted; `exp`, issuer and audience are required.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Principal, sites};
use crate::entity::instance_settings;
use crate::{Error, Result};

const ISSUER: &str = "deskgraph";
const AUDIENCE: &str = "deskgraph-api";
const SECRET_KEY: &str = "jwt_secret";
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The agent.
    sub: Uuid,
    /// The site.
    site: Uuid,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

#[derive(Clone)]
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    active: ActiveAgents,
}

/// How long an agent found active is trusted without asking the database again. It keeps the
/// check off the hot path of every request; changes to an agent made through this process take
/// effect at once ([`ActiveAgents::forget`]), changes made through another replica within this.
pub const ACTIVE_AGENT_TTL: Duration = Duration::from_secs(5);
const ACTIVE_AGENT_MAX: usize = 10_000;

/// Agents recently found to exist and be active, shared by the requests of one process.
#[derive(Clone, Default)]
pub struct ActiveAgents(Arc<Mutex<HashMap<Principal, Instant>>>);

impl ActiveAgents {
    fn fresh(&self, p: &Principal) -> bool {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(p)
            .is_some_and(|at| at.elapsed() < ACTIVE_AGENT_TTL)
    }

    fn remember(&self, p: Principal) {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= ACTIVE_AGENT_MAX {
            seen.retain(|_, at| at.elapsed() < ACTIVE_AGENT_TTL);
            if seen.len() >= ACTIVE_AGENT_MAX {
                seen.clear();
            }
        }
        seen.insert(p, Instant::now());
    }

    /// Drops what is known of an agent: the next request with their token asks the database.
    pub fn forget(&self, agent_id: Uuid) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p, _| p.agent_id != agent_id);
    }
}

impl Auth {
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Auth {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            active: ActiveAgents::default(),
        }
    }

    /// Uses the configured secret, or the one kept in the database, generating it on first use.
    /// Replicas racing to generate it all end up with the first one written.
    pub async fn load(db: &DatabaseConnection, configured: Option<&str>) -> Result<Self> {
        if let Some(secret) = configured {
            if secret.len() < 32 {
                return Err(Error::bad_input(
                    "DESKGRAPH_JWT_SECRET",
                    "the JWT secret must be at least 32 bytes",
                ));
            }
            return Ok(Self::from_secret(secret.as_bytes()));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let generated = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
        instance_settings::Entity::insert(instance_settings::ActiveModel {
            key: Set(SECRET_KEY.to_owned()),
            value: Set(generated),
        })
        .on_conflict_do_nothing_on([instance_settings::Column::Key])
        .exec(db)
        .await?;
        let stored = instance_settings::Entity::find_by_id(SECRET_KEY.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("jwt secret missing right after it was stored"))?;
        Ok(Self::from_secret(stored.value.as_bytes()))
    }

    pub fn issue(&self, principal: &Principal, ttl: Duration) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: principal.agent_id,
            site: principal.site_id,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(e.into()))
    }

    /// Checks an `Authorization` header value and the agent it names.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        header: Option<&str>,
    ) -> Result<Principal> {
        let header = header
            .ok_or_else(|| Error::Unauthenticated("missing Authorization: Bearer token".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::Unauthenticated("the Authorization header must be `Bearer TOKEN`".into())
            })?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| Error::Unauthenticated(format!("invalid bearer token: {}", describe(&e))))?
            .claims;
        let principal = Principal {
            site_id: claims.site,
            agent_id: claims.sub,
        };
        if self.active.fresh(&principal) {
            return Ok(principal);
        }
        match sites::active_agent(db, &principal).await? {
            Some(_) => {
                self.active.remember(principal);
                Ok(principal)
            }
            None => Err(Error::Unauthenticated(
                "the token's agent does not exist or is not active".into(),
            )),
        }
    }

    /// The process's record of active agents, for the code that changes agents.
    pub fn active_agents(&self) -> ActiveAgents {
        self.active.clone()
    }
}

/// A short reason for a rejected token, without echoing the token.
fn describe(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind::*;
    match e.kind() {
        ExpiredSignature => "expired",
        InvalidSignature => "bad signature",
        InvalidAlgorithm | InvalidAlgorithmName => "algorithm not accepted",
        InvalidIssuer => "wrong issuer",
        InvalidAudience => "wrong audience",
        MissingRequiredClaim(_) => "a required claim is missing",
        ImmatureSignature => "not valid yet",
        _ => "malformed",
    }
}
