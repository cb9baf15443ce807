//! Reading levels from a rollup node over the Octez rollup-node RPC (the
//! sandbox serves the same): a block's hash and predecessor, then its level
//! record and clock from durable storage read *by block hash*, so every
//! part of a level comes from one block even while the node reorganises.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use pledgeroll_contracts::keys;
use pledgeroll_contracts::state::Clock;
use pledgeroll_contracts::Decode;
use pledgeroll_interface::record::RecordError;
use pledgeroll_interface::{paths, rpc, Backoff, LevelRecord};
use pledgeroll_interface::{Node, NodeError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::sync::{watch, Notify};

use crate::error::IndexError;
use crate::mirror::LevelData;

/// Which block the indexer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// The node's head: newest, and reorganisations are undone.
    Head,
    /// The node's finalized block: a few levels behind, never replaced.
    Finalized,
}

impl Follow {
    /// The RPC's name for the block.
    pub fn block(self) -> &'static str {
        match self {
            Follow::Head => "head",
            Follow::Finalized => "finalized",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Block {
    block_hash: String,
    level: u32,
    predecessor: String,
}

#[derive(Debug, Deserialize)]
struct KeyValue {
    key: String,
    value: String,
}

/// A rollup node the indexer reads from.
#[derive(Debug, Clone)]
pub struct Source {
    node: Node,
}

/// Where a rollup keeps the kernel it runs.
const KERNEL_PATH: &str = "/kernel/boot.wasm";

fn not_found(e: &IndexError) -> bool {
    matches!(e, IndexError::Node(NodeError::Refused { status: 404, .. }))
}

fn bad(level: u32, reason: impl Into<String>) -> IndexError {
    IndexError::BadLevel {
        level,
        reason: reason.into(),
    }
}

impl Source {
    /// The node at `url`.
    pub fn new(url: &str) -> Self {
        Source {
            node: Node::new(url),
        }
    }

    /// The RPC client.
    pub fn node(&self) -> &Node {
        &self.node
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, IndexError> {
        Ok(self.node.get_json(path).await?)
    }

    /// The rollup's address.
    pub async fn rollup(&self) -> Result<String, IndexError> {
        Ok(self.node.rollup_address().await?.to_string())
    }

    /// The blake2b-256 hash (hex, as `scripts/build-kernel` prints it) of
    /// the kernel the node runs at `block`, read from `/kernel/boot.wasm`;
    /// `None` where the node keeps no kernel there (the sandbox running its
    /// kernel natively).
    pub async fn kernel_hash(&self, block: &str) -> Result<Option<String>, IndexError> {
        let code = self.node.durable_value(block, KERNEL_PATH).await?;
        Ok(code.map(|c| hex::encode(pledgeroll_contracts::crypto::blake2b_256(&c))))
    }

    /// The level of the head or of the finalized block.
    pub async fn level(&self, follow: Follow) -> Result<u32, IndexError> {
        Ok(self.node.level(follow.block()).await?)
    }

    /// The hash of the node's block at `level`, if it has one.
    pub async fn block_hash(&self, level: u32) -> Result<Option<String>, IndexError> {
        match self
            .get::<String>(&rpc::block_hash(&level.to_string()))
            .await
        {
            Ok(hash) => Ok(Some(hash)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the node has a block at `level`; a node that refuses the
    /// request (below the rollup's origination, say) has none.
    async fn has_block(&self, level: u32) -> Result<bool, IndexError> {
        match self.block_hash(level).await {
            Ok(hash) => Ok(hash.is_some()),
            Err(IndexError::Node(NodeError::Refused { .. })) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The lowest level from `from` to `head` that the node has a block
    /// for (a node has none before the rollup's origination).
    pub async fn first_level(&self, from: u32, head: u32) -> Result<u32, IndexError> {
        if self.has_block(from).await? {
            return Ok(from);
        }
        let (mut missing, mut present) = (from, head);
        while present - missing > 1 {
            let mid = missing + (present - missing) / 2;
            if self.has_block(mid).await? {
                present = mid;
            } else {
                missing = mid;
            }
        }
        Ok(present)
    }

    /// Values stored under `key` in block `hash`, by their last step.
    async fn values(&self, hash: &str, key: &str) -> Result<Vec<(String, Vec<u8>)>, IndexError> {
        let path = rpc::durable_values(hash, key);
        let items: Vec<KeyValue> = match self.get(&path).await {
            Err(e) if not_found(&e) => {
                return Err(IndexError::BlockGone {
                    hash: hash.to_owned(),
                })
            }
            other => other?,
        };
        items
            .into_iter()
            .map(|kv| {
                let step = kv.key.rsplit('/').next().unwrap_or_default().to_owned();
                let bytes = hex::decode(&kv.value).map_err(|e| {
                    IndexError::Node(NodeError::Unexpected {
                        path: path.clone(),
                        reason: format!("value of {}: {e}", kv.key),
                    })
                })?;
                Ok((step, bytes))
            })
            .collect()
    }

    /// One durable value in block `hash`.
    async fn value(&self, hash: &str, key: &str) -> Result<Option<Vec<u8>>, IndexError> {
        match self.node.durable_value(hash, key).await {
            Ok(v) => Ok(v),
            Err(NodeError::Refused { status: 404, .. }) => Err(IndexError::BlockGone {
                hash: hash.to_owned(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads level `level`: its block, the kernel's record of it and the
    /// protocol's clock after it.
    pub async fn fetch(&self, level: u32) -> Result<LevelData, IndexError> {
        let block: Block = self.get(&rpc::block(&level.to_string())).await?;
        if block.level != level {
            return Err(bad(level, format!("the node gave block {}", block.level)));
        }
        let hash = block.block_hash;
        let parts = self.values(&hash, &paths::LEVEL.to_string()).await?;
        let clock_key = format!("{}{}", paths::STATE, keys::CLOCK);
        let time = match self.value(&hash, &clock_key).await? {
            Some(bytes) => Some(
                Clock::from_bytes(&bytes)
                    .map_err(|e| bad(level, format!("the clock does not decode: {e}")))?
                    .now,
            ),
            None => None,
        };
        let record = record(level, parts)?;
        Ok(LevelData {
            level,
            hash,
            predecessor: block.predecessor,
            time,
            record,
        })
    }
}

/// The kernel's record of `level` from the values under `/pledgeroll/level`;
/// `None` if the kernel wrote none at this level.
fn record(level: u32, parts: Vec<(String, Vec<u8>)>) -> Result<Option<LevelRecord>, IndexError> {
    let mut parts: HashMap<String, Vec<u8>> = parts.into_iter().collect();
    let record = LevelRecord::from_parts(|path| {
        let step = path.to_string();
        let step = step.rsplit('/').next().unwrap_or_default();
        Ok::<_, RecordError>(parts.remove(step))
    })
    .map_err(|e| bad(level, e.to_string()))?;
    let Some(record) = record else {
        return Ok(None);
    };
    if record.number < level {
        // The kernel did not run at this level: what is stored is an older
        // level's record, and the state did not change.
        tracing::warn!(
            level,
            record = record.number,
            "the kernel wrote no record at this level"
        );
        return Ok(None);
    }
    if record.number > level {
        return Err(bad(
            level,
            format!("its block holds the record of level {}", record.number),
        ));
    }
    Ok(Some(record))
}

/// Wakes `notify` whenever the node announces a block on
/// `/global/monitor_blocks`, reconnecting after failures, until `stop`.
pub async fn watch_blocks(url: String, notify: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let url = format!("{}{}", url.trim_end_matches('/'), rpc::MONITOR_BLOCKS);
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        let attempt = async {
            let response = http.get(&url).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let mut chunks = response.bytes_stream();
            while let Some(Ok(_)) = chunks.next().await {
                notify.notify_one();
            }
            Some(())
        };
        tokio::select! {
            done = attempt => {
                if done.is_some() {
                    backoff.reset();
                }
            }
            _ = stop.wait_for(|s| *s) => return,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff.pause()) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::{Address, AssetId, Event};
    use pledgeroll_interface::record::encode_list;

    fn parts(number: u32) -> Vec<(String, Vec<u8>)> {
        let alice: Address = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse()
            .expect("valid");
        let events = vec![Event::Deposited {
            account: alice,
            asset: AssetId(0),
            amount: 5,
        }];
        vec![
            ("number".into(), number.to_le_bytes().to_vec()),
            ("events".into(), encode_list(&events)),
            (
                "receipts".into(),
                encode_list::<pledgeroll_contracts::Receipt>(&[]),
            ),
            (
                "notices".into(),
                encode_list::<pledgeroll_interface::Notice>(&[]),
            ),
            ("state_hash".into(), vec![7; 32]),
        ]
    }

    #[test]
    fn a_record_of_the_level_decodes() {
        let r = record(9, parts(9)).expect("valid").expect("present");
        assert_eq!(r.number, 9);
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.state_hash, [7; 32]);
        assert_eq!(r.fault, None);
    }

    #[test]
    fn an_older_record_means_no_record_and_a_newer_one_is_refused() {
        assert_eq!(record(10, parts(9)).expect("valid"), None);
        assert_eq!(record(10, Vec::new()).expect("valid"), None);
        assert!(record(8, parts(9)).is_err());
    }

    #[test]
    fn a_record_with_a_missing_or_corrupt_part_is_refused() {
        let mut missing = parts(9);
        missing.retain(|(k, _)| k != "receipts");
        assert!(record(9, missing).is_err());
        let mut corrupt = parts(9);
        if let Some((_, v)) = corrupt.iter_mut().find(|(k, _)| k == "events") {
            v.push(0);
        }
        assert!(record(9, corrupt).is_err());
    }
}
