//! Helpers shared by the protocol test binaries (`accounts`, `pledges`,
//! `creator_pauses`), on top of `common`.
#![allow(dead_code)] // each test binary uses a part

use super::common::*;
use pledgeroll_contracts::crypto::Contract;
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::Operation;

pub fn withdraw_op(asset: pledgeroll_contracts::AssetId, amount: u64) -> Operation {
    Operation::Withdraw {
        asset,
        amount,
        destination: Contract::Originated([0x11; 20]),
        entrypoint: Text::new("burn").expect("short"),
    }
}

pub trait LimitedTier {
    fn next_limited_tier(
        &mut self,
        creator: usize,
        asset: pledgeroll_contracts::AssetId,
    ) -> pledgeroll_contracts::TierId;
}

impl LimitedTier for World {
    fn next_limited_tier(
        &mut self,
        creator: usize,
        asset: pledgeroll_contracts::AssetId,
    ) -> pledgeroll_contracts::TierId {
        let next = self.p.counters().expect("read").tier;
        self.ok(
            creator,
            Operation::AddTier {
                title: Text::new("one seat").expect("short"),
                perks: Text::new("").expect("short"),
                asset,
                amount_per_period: 100,
                period: MONTH,
                patron_limit: Some(1),
            },
        );
        pledgeroll_contracts::TierId(next)
    }
}
