//! The rollup node RPC paths pledgeroll uses, as
//! `octez-smart-rollup-node` serves them (and the sandbox serves the same).
//! Templates name their parameters as the node's OpenAPI description does,
//! which is also the route syntax of the sandbox's server; the functions
//! fill them in for a client.

/// The rollup's `sr1…` address.
pub const ROLLUP_ADDRESS: &str = "/global/smart_rollup_address";
/// A block: its hash, level and predecessor.
pub const BLOCK: &str = "/global/block/{block_id}";
/// A block's hash.
pub const BLOCK_HASH: &str = "/global/block/{block_id}/hash";
/// A block's level.
pub const BLOCK_LEVEL: &str = "/global/block/{block_id}/level";
/// One durable value (hex) in a block's state, `?key=` its path.
pub const DURABLE_VALUE: &str = "/global/block/{block_id}/durable/wasm_2_0_0/value";
/// Every durable value directly under a path, `?key=` the path.
pub const DURABLE_VALUES: &str = "/global/block/{block_id}/durable/wasm_2_0_0/values";
/// The subkeys of a durable path, `?key=` the path.
pub const DURABLE_SUBKEYS: &str = "/global/block/{block_id}/durable/wasm_2_0_0/subkeys";
/// The length of a durable value, `?key=` its path.
pub const DURABLE_LENGTH: &str = "/global/block/{block_id}/durable/wasm_2_0_0/length";
/// A stream announcing each new block.
pub const MONITOR_BLOCKS: &str = "/global/monitor_blocks";
/// The batcher's injection of external messages (hex).
pub const INJECTION: &str = "/local/batcher/injection";

/// `template` for block `block` (`head`, `finalized`, a level or a hash).
pub fn at(template: &str, block: &str) -> String {
    template.replace("{block_id}", block)
}

/// Block `block`.
pub fn block(block: &str) -> String {
    at(BLOCK, block)
}

/// The hash of block `block`.
pub fn block_hash(block: &str) -> String {
    at(BLOCK_HASH, block)
}

/// The level of block `block`.
pub fn block_level(block: &str) -> String {
    at(BLOCK_LEVEL, block)
}

/// The durable value at `key` in block `block`.
pub fn durable_value(block: &str, key: &str) -> String {
    format!("{}?key={key}", at(DURABLE_VALUE, block))
}

/// The durable values directly under `key` in block `block`.
pub fn durable_values(block: &str, key: &str) -> String {
    format!("{}?key={key}", at(DURABLE_VALUES, block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_filled_in_as_the_node_serves_them() {
        assert_eq!(block("head"), "/global/block/head");
        assert_eq!(block_level("finalized"), "/global/block/finalized/level");
        assert_eq!(block_hash("12"), "/global/block/12/hash");
        assert_eq!(
            durable_value("BLabc", "/pledgeroll/level/number"),
            "/global/block/BLabc/durable/wasm_2_0_0/value?key=/pledgeroll/level/number"
        );
        assert_eq!(
            durable_values("7", "/pledgeroll/level"),
            "/global/block/7/durable/wasm_2_0_0/values?key=/pledgeroll/level"
        );
    }
}
