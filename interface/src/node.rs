//! A client of the rollup node RPC that `octez-smart-rollup-node` serves (and
//! the pledgeroll sandbox serves too): reading durable state at a block,
//! injecting messages, and finding an operation's receipt.

use std::time::{Duration, Instant};

use pledgeroll_contracts::{Decode, Event, Receipt, RollupAddress};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use thiserror::Error;

use crate::record::decode_list;
use crate::{paths, rpc};
use tezos_smart_rollup_host::path::RefPath;

/// Why talking to the node failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The node could not be reached.
    #[error("cannot reach the rollup node at {url}: {reason}; is it running? (see --node)")]
    Unreachable {
        /// The node's URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The node answered with an error.
    #[error("the rollup node refused {path}: {status} {body}")]
    Refused {
        /// The request path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The node's answer is not what the RPC describes.
    #[error("unexpected answer from the rollup node for {path}: {reason}")]
    Unexpected {
        /// The request path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A stored value that does not decode.
    #[error("the rollup state at {key} does not decode: {reason}")]
    Corrupt {
        /// The durable key.
        key: String,
        /// The decoding error.
        reason: String,
    },
    /// No receipt came in time.
    #[error("no receipt for operation {hash} after {waited:?}; it may still apply, check with `pledgeroll status`")]
    Timeout {
        /// The operation hash, hex.
        hash: String,
        /// How long it waited.
        waited: Duration,
    },
}

/// A connection to a rollup node.
#[derive(Debug, Clone)]
pub struct Node {
    base: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Injected(Vec<String>);

impl Node {
    /// A client of the node at `base` (e.g. `http://127.0.0.1:8932`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    /// The node's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn send(
        &self,
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<String, NodeError> {
        let response = request.send().await.map_err(|e| NodeError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        })?;
        let status = response.status();
        let body = response.text().await.map_err(|e| NodeError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        })?;
        if !status.is_success() {
            return Err(NodeError::Refused {
                path: path.to_owned(),
                status: status.as_u16(),
                body,
            });
        }
        Ok(body)
    }

    /// GETs `path` and parses its JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, NodeError> {
        let body = self
            .send(path, self.http.get(format!("{}{path}", self.base)))
            .await?;
        serde_json::from_str(&body).map_err(|e| NodeError::Unexpected {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// POSTs JSON to `path` and parses the JSON answer.
    pub async fn post_json<B: serde::Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, NodeError> {
        let text = self
            .send(
                path,
                self.http.post(format!("{}{path}", self.base)).json(body),
            )
            .await?;
        serde_json::from_str(&text).map_err(|e| NodeError::Unexpected {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// The rollup's address.
    pub async fn rollup_address(&self) -> Result<RollupAddress, NodeError> {
        let path = rpc::ROLLUP_ADDRESS;
        let text: String = self.get_json(path).await?;
        text.parse().map_err(|e| NodeError::Unexpected {
            path: path.to_owned(),
            reason: format!("{e}"),
        })
    }

    /// The level of block `block` (`head`, `finalized`, a level or a hash).
    pub async fn level(&self, block: &str) -> Result<u32, NodeError> {
        self.get_json(&rpc::block_level(block)).await
    }

    /// The raw durable value at `key` in block `block`, if any.
    pub async fn durable_value(
        &self,
        block: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, NodeError> {
        let path = rpc::durable_value(block, key);
        let hex_value: Option<String> = self.get_json(&path).await?;
        hex_value
            .map(|h| {
                hex::decode(&h).map_err(|e| NodeError::Unexpected {
                    path: path.clone(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// A protocol value (a key of `pledgeroll_contracts::keys`) in block `block`.
    pub async fn state<T: Decode>(&self, block: &str, key: &str) -> Result<Option<T>, NodeError> {
        let full = format!("{}{key}", paths::STATE);
        match self.durable_value(block, &full).await? {
            None => Ok(None),
            Some(bytes) => T::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| NodeError::Corrupt {
                    key: full,
                    reason: e.to_string(),
                }),
        }
    }

    /// A counted list (`u32` count then items) from the level record of block `block`.
    async fn level_list<T: Decode>(
        &self,
        block: &str,
        path: &RefPath<'static>,
    ) -> Result<Vec<T>, NodeError> {
        let key = path.to_string();
        match self.durable_value(block, &key).await? {
            None => Ok(Vec::new()),
            Some(bytes) => decode_list(&bytes).map_err(|e| NodeError::Corrupt {
                key,
                reason: e.to_string(),
            }),
        }
    }

    /// The receipts of the operations applied at level `level`.
    pub async fn receipts(&self, level: u32) -> Result<Vec<Receipt>, NodeError> {
        self.level_list(&level.to_string(), &paths::LEVEL_RECEIPTS)
            .await
    }

    /// The events of level `level`.
    pub async fn events(&self, level: u32) -> Result<Vec<Event>, NodeError> {
        self.level_list(&level.to_string(), &paths::LEVEL_EVENTS)
            .await
    }

    /// Sends external messages through the node's batcher; returns their ids.
    pub async fn inject(&self, messages: &[Vec<u8>]) -> Result<Vec<String>, NodeError> {
        let hexes: Vec<String> = messages.iter().map(hex::encode).collect();
        let ids: Injected = self.post_json(rpc::INJECTION, &hexes).await?;
        Ok(ids.0)
    }

    /// Waits for the receipt of the operation with hash `hash`, looking at
    /// every level after `after`, for at most `timeout`.
    pub async fn wait_receipt(
        &self,
        hash: [u8; 32],
        after: u32,
        timeout: Duration,
    ) -> Result<(u32, Receipt), NodeError> {
        let start = Instant::now();
        let mut next = after.saturating_add(1);
        loop {
            let head = self.level("head").await?;
            while next <= head {
                if let Some(r) = self
                    .receipts(next)
                    .await?
                    .into_iter()
                    .find(|r| r.hash == hash)
                {
                    return Ok((next, r));
                }
                next += 1;
            }
            if start.elapsed() >= timeout {
                return Err(NodeError::Timeout {
                    hash: hex::encode(hash),
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
