//! Operations for tests and benchmarks across the workspace (feature
//! `fixtures`), so that every crate's tests build the same profile, tier
//! and pledge the same way. Texts that do not fit their bound are a bug in
//! the test, so these panic on them.

use crate::encoding::{List, Text};
use crate::state::Profile;
use crate::{AssetId, Operation, TierId};

/// `s` as a bounded text.
///
/// # Panics
/// If `s` is longer than `N` bytes.
pub fn text<const N: usize>(s: &str) -> Text<N> {
    Text::new(s).expect("a fixture text fits its bound")
}

/// A creator profile named `name`, with a fixed description and no links.
pub fn profile(name: &str) -> Operation {
    Operation::SetProfile {
        profile: Profile {
            name: text(name),
            description: text("makes things"),
            links: List::default(),
        },
    }
}

/// A tier titled `title` of `per_period` base units of `asset` every
/// `period` seconds, for at most `patron_limit` patrons.
pub fn tier_of(
    title: &str,
    asset: AssetId,
    per_period: u64,
    period: u32,
    patron_limit: Option<u32>,
) -> Operation {
    Operation::AddTier {
        title: text(title),
        perks: text(&format!("perks of {title}")),
        asset,
        amount_per_period: per_period,
        period,
        patron_limit,
    }
}

/// A `supporter` tier (perks: `thanks`) of `per_period` base units of
/// asset 0 every `period` seconds.
pub fn tier(per_period: u64, period: u32) -> Operation {
    Operation::AddTier {
        title: text("supporter"),
        perks: text("thanks"),
        asset: AssetId(0),
        amount_per_period: per_period,
        period,
        patron_limit: None,
    }
}

/// A pledge at a tier's price, with no end and no cap.
pub fn pledge(tier: TierId) -> Operation {
    Operation::Pledge {
        tier,
        amount: None,
        end: None,
        cap: None,
    }
}
