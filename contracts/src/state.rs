//! The records the protocol keeps: accounts, creators, tiers and pledges, and
//! the ids that name them.

use core::fmt;

use crate::asset::AssetId;
use crate::crypto::{Address, PublicKey};
use crate::encoding::{
    codec_enum, codec_struct, Decode, DecodeError, Encode, List, Reader, Text, Writer,
};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl Encode for $name {
            fn encode(&self, w: &mut Writer) {
                w.u64(self.0);
            }
        }

        impl Decode for $name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok($name(r.u64($what)?))
            }
        }
    };
}

id_type!(
    /// A tier, numbered across the rollup in order of creation.
    TierId,
    "tier id"
);
id_type!(
    /// A pledge, numbered across the rollup in order of creation.
    PledgeId,
    "pledge id"
);
id_type!(
    /// A project escrow, numbered across the rollup in order of creation.
    ProjectId,
    "project id"
);

/// Whoever can hold a balance and receive a stream: an account, or a project
/// escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    /// An implicit account.
    Account(Address),
    /// A project escrow.
    Project(ProjectId),
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Account(a) => write!(f, "{a}"),
            Holder::Project(p) => write!(f, "project {p}"),
        }
    }
}

impl Encode for Holder {
    fn encode(&self, w: &mut Writer) {
        match self {
            Holder::Account(a) => {
                w.u8(0);
                a.encode(w);
            }
            Holder::Project(p) => {
                w.u8(1);
                p.encode(w);
            }
        }
    }
}

impl Decode for Holder {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("holder")? {
            0 => Ok(Holder::Account(r.get()?)),
            1 => Ok(Holder::Project(r.get()?)),
            tag => Err(DecodeError::UnknownTag {
                what: "holder",
                tag,
            }),
        }
    }
}

/// The level and time the protocol last ran at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// The last level begun.
    pub level: u32,
    /// Its time, in seconds since the Unix epoch; never decreases.
    pub now: u64,
}
codec_struct!(Clock { level, now });

/// The next free id of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Next asset id.
    pub asset: u32,
    /// Next tier id.
    pub tier: u64,
    /// Next pledge id.
    pub pledge: u64,
    /// Next project id.
    pub project: u64,
    /// Next scheduler sequence number (orders events due at the same time).
    pub schedule: u64,
    /// Next account number.
    pub account: u64,
}
codec_struct!(Counters {
    asset,
    tier,
    pledge,
    project,
    schedule,
    account
});

/// An account as the protocol knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The nonce its next operation is signed with.
    pub next_nonce: u64,
    /// Its public key, once an operation revealed it.
    pub public_key: Option<PublicKey>,
    /// Its number, given when its key was revealed: later operations name
    /// their signer by it.
    pub index: Option<u64>,
}
codec_struct!(Account {
    next_nonce,
    public_key,
    index
});

/// Longest creator name, in bytes.
pub const MAX_NAME: usize = 64;
/// Longest creator description, in bytes.
pub const MAX_DESCRIPTION: usize = 1_000;
/// Longest link, in bytes.
pub const MAX_LINK: usize = 200;
/// Most links on a profile.
pub const MAX_LINKS: usize = 8;
/// Longest tier title, in bytes.
pub const MAX_TITLE: usize = 64;
/// Longest tier perks text, in bytes.
pub const MAX_PERKS: usize = 500;
/// Most tiers a creator has ever added.
pub const MAX_TIERS: usize = 32;
/// Most live (active or paused) pledges one patron pays at once.
pub const MAX_PLEDGES_PER_PATRON: usize = 64;
/// Shortest tier period: one minute.
pub const MIN_PERIOD: u32 = 60;
/// Longest tier period: ten years of 365 days.
pub const MAX_PERIOD: u32 = 315_360_000;

/// A creator's public profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Display name.
    pub name: Text<MAX_NAME>,
    /// What the creator makes.
    pub description: Text<MAX_DESCRIPTION>,
    /// Links to their work.
    pub links: List<Text<MAX_LINK>, MAX_LINKS>,
}
codec_struct!(Profile {
    name,
    description,
    links
});

/// A creator: profile, tiers and when the whole subscription paused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Creator {
    /// The public profile.
    pub profile: Profile,
    /// Every tier the creator added, retired ones included.
    pub tiers: List<TierId, MAX_TIERS>,
    /// While paused, no pledge to the creator streams and none can start.
    pub pause: PauseClock,
}
codec_struct!(Creator {
    profile,
    tiers,
    pause
});

/// A creator's pauses as one clock: the seconds the subscription has spent
/// paused. A pledge notes the clock when it settles; what it streamed
/// since is its rate times the seconds elapsed less the seconds the clock
/// moved, so pausing and resuming touch the creator alone, whatever the
/// number of patrons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PauseClock {
    /// Seconds spent paused before the current pause, if any.
    pub paused_seconds: u64,
    /// When the current pause began, while paused.
    pub paused_since: Option<u64>,
}
codec_struct!(PauseClock {
    paused_seconds,
    paused_since
});

impl PauseClock {
    /// Whether the subscription is paused now.
    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// Seconds spent paused up to `t` (not before the current pause).
    pub fn at(&self, t: u64) -> u64 {
        let current = self.paused_since.map_or(0, |since| t.saturating_sub(since));
        self.paused_seconds.saturating_add(current)
    }

    /// The clock paused at `t`.
    pub fn paused_at(self, t: u64) -> Self {
        PauseClock {
            paused_seconds: self.paused_seconds,
            paused_since: Some(t),
        }
    }

    /// The clock resumed at `t`.
    pub fn resumed_at(self, t: u64) -> Self {
        PauseClock {
            paused_seconds: self.at(t),
            paused_since: None,
        }
    }
}

/// The terms of a tier. Fixed once added: a creator can only retire it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// The creator offering it.
    pub creator: Address,
    /// Short title.
    pub title: Text<MAX_TITLE>,
    /// What patrons get.
    pub perks: Text<MAX_PERKS>,
    /// The asset pledges pay in.
    pub asset: AssetId,
    /// The price per period, in base units.
    pub amount_per_period: u64,
    /// The period, in seconds.
    pub period: u32,
    /// Most live pledges the tier takes, if limited.
    pub patron_limit: Option<u32>,
    /// Live (active or paused) pledges on the tier now.
    pub patrons: u32,
    /// A retired tier takes no new pledges; existing ones go on.
    pub retired: bool,
}
codec_struct!(Tier {
    creator,
    title,
    perks,
    asset,
    amount_per_period,
    period,
    patron_limit,
    patrons,
    retired,
});

/// Who paused a pledge. (A creator's pause is the creator's: its pledges
/// stay active and stream nothing while it lasts; see [`PauseClock`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseReason {
    /// The patron paused it.
    ByPatron,
    /// The patron's balance could no longer pay a second of every active
    /// pledge in the asset; the patron can resume after a deposit.
    OutOfFunds,
}
codec_enum!(PauseReason, "pause reason" {
    0 => ByPatron,
    1 => OutOfFunds,
});

/// Why a pledge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The patron cancelled it.
    Cancelled,
    /// Its end date came.
    EndDate,
    /// Its total cap was reached.
    CapReached,
}
codec_enum!(EndReason, "end reason" {
    0 => Cancelled,
    1 => EndDate,
    2 => CapReached,
});

/// When a pledge ends by itself, as its signer states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgeEnd {
    /// At this time (Unix seconds).
    At {
        /// The time.
        time: u64,
    },
    /// This many seconds after the pledge starts (the second its level
    /// applies it), so a pledge `for 10 days` streams exactly ten days.
    After {
        /// The duration.
        seconds: u64,
    },
}
codec_enum!(PledgeEnd, "pledge end" {
    0 => At { time },
    1 => After { seconds },
});

impl PledgeEnd {
    /// The end's time for a pledge starting at `start`; `None` past the
    /// clock's range.
    pub fn time(self, start: u64) -> Option<u64> {
        match self {
            PledgeEnd::At { time } => Some(time),
            PledgeEnd::After { seconds } => start.checked_add(seconds),
        }
    }
}

/// Where a pledge stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgeStatus {
    /// Streaming.
    Active,
    /// Not streaming, can resume.
    Paused {
        /// Who or what paused it.
        reason: PauseReason,
    },
    /// Over for good.
    Ended {
        /// Why.
        reason: EndReason,
    },
}
codec_enum!(PledgeStatus, "pledge status" {
    0 => Active,
    1 => Paused { reason },
    2 => Ended { reason },
});

/// In words: `active`, `paused by the patron`, `paused: out of funds`,
/// `ended: cap reached`.
impl fmt::Display for PledgeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PledgeStatus::Active => "active",
            PledgeStatus::Paused { reason } => match reason {
                PauseReason::ByPatron => "paused by the patron",
                PauseReason::OutOfFunds => "paused: out of funds",
            },
            PledgeStatus::Ended { reason } => match reason {
                EndReason::Cancelled => "ended: cancelled",
                EndReason::EndDate => "ended: end date reached",
                EndReason::CapReached => "ended: cap reached",
            },
        })
    }
}

/// A pledge: a stream from a patron to a payee at fixed terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pledge {
    /// Who pays.
    pub patron: Address,
    /// Who receives: a creator or a project escrow.
    pub payee: Holder,
    /// The tier pledged to, for pledges to a creator.
    pub tier: Option<TierId>,
    /// The asset streamed.
    pub asset: AssetId,
    /// The amount per period, in base units, as signed.
    pub amount_per_period: u64,
    /// The period, in seconds, as signed.
    pub period: u32,
    /// Fine units per second streamed while active.
    pub rate: u128,
    /// Time after which the pledge ends, if any.
    pub end: Option<u64>,
    /// Most base units it ever pays, if capped.
    pub cap: Option<u64>,
    /// Where it stands.
    pub status: PledgeStatus,
    /// When it was made.
    pub created_at: u64,
    /// Fine units streamed up to `since`.
    pub streamed: u128,
    /// When the stream last started or was settled.
    pub since: u64,
    /// The payee's [`PauseClock`] at `since` (a project never pauses: 0).
    pub pause_clock: u64,
    /// The time of its end event in the scheduler, if one is queued.
    pub end_scheduled: Option<u64>,
}
codec_struct!(Pledge {
    patron,
    payee,
    tier,
    asset,
    amount_per_period,
    period,
    rate,
    end,
    cap,
    status,
    created_at,
    streamed,
    since,
    pause_clock,
    end_scheduled,
});

impl Pledge {
    /// Whether the pledge is streaming.
    pub fn is_active(&self) -> bool {
        self.status == PledgeStatus::Active
    }

    /// Whether the pledge can still stream (active or paused).
    pub fn is_live(&self) -> bool {
        !matches!(self.status, PledgeStatus::Ended { .. })
    }

    /// Fine units streamed up to `t` (not before `since`), given the
    /// payee's [`PauseClock`] at `t` (0 for a project); `None` on overflow.
    pub fn streamed_at(&self, t: u64, pause_clock: u64) -> Option<u128> {
        if !self.is_active() {
            return Some(self.streamed);
        }
        let paused = pause_clock.saturating_sub(self.pause_clock);
        crate::stream::streamed_by(self.streamed, self.rate, self.since, paused, t)
    }
}

/// The pledges a patron pays, active or paused.
pub type PatronPledges = List<PledgeId, MAX_PLEDGES_PER_PATRON>;
