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
    /// The node's answer is larger than any the RPC gives.
    #[error("the rollup node's answer to {path} is larger than {limit} bytes; refused")]
    TooLarge {
        /// The request path.
        path: String,
        /// The most read.
        limit: usize,
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

/// The largest answer read from a node: far above any the RPC gives (a
/// full level's record is a few megabytes), far below what would exhaust
/// a reader.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

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
        let body = self.read_bounded(path, response).await?;
        if !status.is_success() {
            return Err(NodeError::Refused {
                path: path.to_owned(),
                status: status.as_u16(),
                body,
            });
        }
        Ok(body)
    }

    /// An answer's body as text, refused past [`MAX_ANSWER_BYTES`] (read in
    /// chunks, so a hostile node cannot make the reader hold more).
    async fn read_bounded(
        &self,
        path: &str,
        mut response: reqwest::Response,
    ) -> Result<String, NodeError> {
        let too_large = || NodeError::TooLarge {
            path: path.to_owned(),
            limit: MAX_ANSWER_BYTES,
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| NodeError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        })? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| NodeError::Unexpected {
            path: path.to_owned(),
            reason: "the answer is not UTF-8".to_owned(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A node that answers every request with `body_len` bytes of `0`,
    /// announcing its length or not.
    async fn node_answering(body_len: usize, announce: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0; 1024];
                    let _ = socket.read(&mut request).await;
                    let head = if announce {
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {body_len}\r\n\r\n")
                    } else {
                        "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_owned()
                    };
                    let _ = socket.write_all(head.as_bytes()).await;
                    let chunk = vec![b'0'; 1 << 20];
                    let mut left = body_len;
                    while left > 0 {
                        let n = left.min(chunk.len());
                        if socket.write_all(&chunk[..n]).await.is_err() {
                            return;
                        }
                        left -= n;
                    }
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn an_answer_larger_than_any_the_rpc_gives_is_refused() {
        for announce in [true, false] {
            let node = Node::new(&node_answering(MAX_ANSWER_BYTES + 1, announce).await);
            let refused = node.get_json::<u32>("/global/block/head/level").await;
            assert!(
                matches!(refused, Err(NodeError::TooLarge { limit, .. }) if limit == MAX_ANSWER_BYTES),
                "announced: {announce}: {refused:?}"
            );
        }
        let node = Node::new(&node_answering(1, true).await);
        assert_eq!(
            node.get_json::<u32>("/global/block/head/level").await.ok(),
            Some(0),
            "a small answer reads"
        );
    }
}
