//! The sandbox's layer-1 assets: tickets minted by simulated ticketer
//! contracts, a tez ticket and a stablecoin ticket, both with 6 decimals.
//! On a fresh sandbox the bootstrap deposits make tez the rollup's asset 0
//! and the stablecoin asset 1.

use crate::b58;
use crate::durable::digest;

/// A ticket kind the sandbox's layer 1 mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxAsset {
    /// Its name, `tez` or `usd`: the sandbox endpoints take it, and its
    /// ticket declares it (metadata `name:decimals`).
    pub name: &'static str,
    /// Decimal places of one unit.
    pub decimals: u8,
    /// The seed the ticketer's address is derived from.
    pub ticketer_seed: &'static str,
    /// The ticketer contract (`KT1…`), derived from the seed.
    pub ticketer: &'static str,
    /// The ticket's token id.
    pub token_id: u64,
    /// The ticket's metadata bytes, if any.
    pub metadata: Option<&'static [u8]>,
    /// The base units each bootstrap account receives in the first level.
    pub bootstrap_amount: u64,
    /// The asset number the kernel gives it on a fresh sandbox.
    pub asset_id: u32,
}

/// The tez ticket: `(0, Some "tez:6")` from the tez ticketer, in mutez;
/// its metadata declares the unit statements show.
pub const TEZ: SandboxAsset = SandboxAsset {
    name: "tez",
    decimals: 6,
    ticketer_seed: "pledgeroll-sandbox:tez-ticketer",
    ticketer: "KT1NJGvnrPNugeem2gLeZ2ukhakXehR85W5g",
    token_id: 0,
    metadata: Some(b"tez:6"),
    bootstrap_amount: 10_000_000_000,
    asset_id: 0,
};

/// The sandbox stablecoin: `(0, Some "usd:6")` from the stablecoin
/// ticketer.
pub const USD: SandboxAsset = SandboxAsset {
    name: "usd",
    decimals: 6,
    ticketer_seed: "pledgeroll-sandbox:usd-ticketer",
    ticketer: "KT1U52yeUwy8kHzFcQm8yLMiqrzyDg3Pswif",
    token_id: 0,
    metadata: Some(b"usd:6"),
    bootstrap_amount: 10_000_000_000,
    asset_id: 1,
};

/// Every sandbox asset, in the order the first level deposits them.
pub const ASSETS: [SandboxAsset; 2] = [TEZ, USD];

/// The sandbox asset named `name`.
pub fn asset(name: &str) -> Option<&'static SandboxAsset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The seed the sandbox rollup's address is derived from.
pub const ROLLUP_SEED: &str = "pledgeroll-sandbox:rollup";

/// The sandbox rollup's address.
pub const ROLLUP_ADDRESS: &str = "sr1P4AN6t8q6qWr2oExtMavFtgs9A1CvUPQd";

/// The 20-byte hash behind an address derived from `seed`.
pub fn derived_hash(seed: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    if let Ok(h) = tezos_crypto_rs::blake2b::digest_160(seed.as_bytes()) {
        out.iter_mut().zip(h).for_each(|(o, b)| *o = b);
    }
    out
}

impl SandboxAsset {
    /// The ticketer's 20-byte contract hash.
    pub fn ticketer_hash(&self) -> [u8; 20] {
        b58::decode20(b58::KT1, self.ticketer).unwrap_or_else(|| derived_hash(self.ticketer_seed))
    }

    /// A digest naming the ticket kind, for ledger keys.
    pub fn ticket_digest(&self) -> [u8; 32] {
        ticket_digest(self.ticketer, self.token_id, self.metadata)
    }
}

/// A digest naming a ticket kind: its ticketer, token id and metadata.
pub fn ticket_digest(ticketer: &str, token_id: u64, metadata: Option<&[u8]>) -> [u8; 32] {
    let mut bytes = ticketer.as_bytes().to_vec();
    bytes.extend_from_slice(&token_id.to_be_bytes());
    if let Some(m) = metadata {
        bytes.push(1);
        bytes.extend_from_slice(m);
    }
    digest(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_derived_from_their_seeds() {
        for a in ASSETS {
            assert_eq!(
                b58::encode(b58::KT1, &derived_hash(a.ticketer_seed)),
                a.ticketer
            );
            assert_eq!(a.ticketer_hash(), derived_hash(a.ticketer_seed));
        }
        assert_eq!(
            b58::encode(b58::ROLLUP, &derived_hash(ROLLUP_SEED)),
            ROLLUP_ADDRESS
        );
        assert_ne!(TEZ.ticket_digest(), USD.ticket_digest());
        assert_eq!(asset("usd"), Some(&USD));
        assert_eq!(asset("eur"), None);
    }

    #[test]
    fn each_ticket_declares_the_assets_name_and_decimals() {
        for a in ASSETS {
            let declared = a
                .metadata
                .and_then(pledgeroll_contracts::asset::declared_unit);
            assert_eq!(declared, Some((a.name, a.decimals)));
        }
    }
}
