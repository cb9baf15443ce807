//! A small world for protocol tests: a memory store, a few funded signers,
//! and helpers that sign with the right nonce.
#![allow(dead_code, unused_imports)] // shared by several test binaries, each using a part

use pledgeroll_contracts::asset::Ticket;
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::event::Outcome;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::statement::StatementError;
use pledgeroll_contracts::{
    Address, Applied, AssetId, Holder, MemoryStore, Operation, Protocol, RollupAddress,
    SignedOperation, Signer, TierId, FINE_PER_UNIT,
};

pub const ROLLUP: RollupAddress = RollupAddress([0x5a; 20]);
pub use pledgeroll_contracts::units::DAY;
pub const MONTH: u32 = pledgeroll_contracts::units::MONTH as u32;
pub const START: i64 = 1_700_000_000;

/// Tez, declaring its unit: amounts read `5 tez`.
pub fn tez_ticket() -> Ticket {
    Ticket {
        ticketer: Contract::Originated([0x11; 20]),
        token_id: 0,
        metadata: Some(b"tez:6".to_vec()),
    }
}

pub fn usd_ticket() -> Ticket {
    Ticket {
        ticketer: Contract::Originated([0x22; 20]),
        token_id: 1,
        metadata: Some(b"USD".to_vec()),
    }
}

pub struct World {
    pub p: Protocol<MemoryStore>,
    pub keys: Vec<SecretKey>,
    pub level: u32,
    pub now: i64,
}

impl World {
    /// A world with `n` accounts (ed25519, secp256k1 and p256 in turn).
    pub fn new(n: usize) -> Self {
        let curves = [Curve::Ed25519, Curve::Secp256k1, Curve::P256];
        let keys = (0..n)
            .map(|i| {
                let mut secret = [0x42u8; 32];
                secret[0] = i as u8 + 1;
                SecretKey::from_bytes(curves[i % 3], secret).expect("valid test key")
            })
            .collect();
        let mut w = World {
            p: Protocol::new(MemoryStore::new(), ROLLUP),
            keys,
            level: 0,
            now: START,
        };
        w.p.begin_level(0, START).expect("level");
        w
    }

    pub fn addr(&self, i: usize) -> Address {
        self.keys[i].public_key().address()
    }

    pub fn holder(&self, i: usize) -> Holder {
        Holder::Account(self.addr(i))
    }

    /// Signs and applies `op` as account `i` would send it next. An
    /// operation naming a record that does not exist has no statement to
    /// sign: it goes with a signature over other words, for the protocol
    /// to refuse.
    pub fn op(&mut self, i: usize, op: Operation) -> Applied {
        let signed = match self.keys[i].sign_next(self.p.store(), &ROLLUP, op.clone()) {
            Ok(signed) => signed,
            Err(StatementError::Unknown(_)) => {
                let account = self.p.account(&self.addr(i)).expect("read");
                SignedOperation {
                    signer: match account.index {
                        Some(n) => Signer::Index(n),
                        None => Signer::Key(self.keys[i].public_key()),
                    },
                    operation: op,
                    signature: self.keys[i].sign(b"no statement"),
                }
            }
            Err(e) => panic!("{e}"),
        };
        self.p
            .apply(&signed)
            .expect("no fault")
            .expect("a known signer")
    }

    /// Applies `op` and asserts it applied.
    pub fn ok(&mut self, i: usize, op: Operation) -> Applied {
        let applied = self.op(i, op);
        assert!(
            applied.receipt.outcome.is_applied(),
            "expected success: {:?}",
            applied.receipt.outcome
        );
        applied
    }

    /// Applies `op` and returns its failure reason, asserting it failed.
    pub fn fails(&mut self, i: usize, op: Operation) -> String {
        let applied = self.op(i, op);
        match applied.receipt.outcome {
            Outcome::Failed { reason } => reason.as_str().to_owned(),
            Outcome::Applied { .. } => panic!("expected failure"),
        }
    }

    pub fn deposit(&mut self, i: usize, ticket: Ticket, amount: u64) -> AssetId {
        let events = self
            .p
            .deposit(self.addr(i), ticket.clone(), amount)
            .expect("no fault")
            .expect("accepted");
        assert!(!events.is_empty());
        (0..self.p.counters().expect("read").asset)
            .map(AssetId)
            .find(|id| self.p.asset(*id).expect("read") == Some(ticket.clone()))
            .expect("registered")
    }

    /// Moves to the next level, `secs` later.
    pub fn advance(&mut self, secs: u64) -> Vec<pledgeroll_contracts::Event> {
        self.level += 1;
        self.now += secs as i64;
        self.p.begin_level(self.level, self.now).expect("level")
    }

    pub fn balance(&self, i: usize, asset: AssetId) -> u128 {
        self.p.balance(&self.holder(i), asset).expect("read")
    }

    pub fn balance_fine(&self, i: usize, asset: AssetId) -> u128 {
        self.p.balance_fine(&self.holder(i), asset).expect("read")
    }

    /// Makes account `i` a creator with one tier at `price` per 30 days.
    pub fn creator_with_tier(&mut self, i: usize, asset: AssetId, price: u64) -> TierId {
        self.ok(
            i,
            Operation::SetProfile {
                profile: Profile {
                    name: Text::new(format!("creator {i}")).expect("short"),
                    description: Text::new("makes things").expect("short"),
                    links: Default::default(),
                },
            },
        );
        self.add_tier(i, asset, price, MONTH)
    }

    pub fn add_tier(&mut self, i: usize, asset: AssetId, price: u64, period: u32) -> TierId {
        let next = self.p.counters().expect("read").tier;
        self.ok(
            i,
            Operation::AddTier {
                title: Text::new("supporter").expect("short"),
                perks: Text::new("thanks").expect("short"),
                asset,
                amount_per_period: price,
                period,
                patron_limit: None,
            },
        );
        TierId(next)
    }
}

pub fn fine(units: u64) -> u128 {
    u128::from(units) * FINE_PER_UNIT
}

/// A pledge at a tier's price.
#[allow(unused_imports)]
pub use pledgeroll_contracts::fixtures::pledge as pledge_op;
