//! The client for a LibreTranslate-compatible translation service:
//! `POST {base}/translate` with `{"q","source","target","format"}` answers `{"translatedText"}`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct Translator {
    client: reqwest::Client,
    endpoint: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Translated {
    translated_text: String,
}

/// HTTPS clients in this process use rustls with the ring provider (the one the database
/// driver already links). Installing it is idempotent; it must happen before a client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Translator {
    pub fn new(base_url: &str) -> Result<Self> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Internal(e.into()))?;
        Ok(Translator {
            client,
            endpoint: format!("{}/translate", base_url.trim_end_matches('/')),
        })
    }

    pub async fn translate(&self, text: &str, source: &str, target: &str) -> Result<String> {
        let failed = |why: String| {
            tracing::warn!(endpoint = %self.endpoint, %why, "translation failed");
            Error::Unavailable("the translation service did not answer; try again later".into())
        };
        let response = self
            .client
            .post(&self.endpoint)
            .json(&json!({ "q": text, "source": source, "target": target, "format": "text" }))
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("status {}", response.status())));
        }
        let body: Translated = response.json().await.map_err(|e| failed(e.to_string()))?;
        Ok(body.translated_text)
    }
}
