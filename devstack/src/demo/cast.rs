//! Who is in the demo and what they put on the rollup: the accounts with
//! their fixed keys, and the pages, tiers, pledges, project and tickets.

use pledgeroll_contracts::crypto::{blake2b_256, Curve};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::units;
use pledgeroll_contracts::{Address, AssetId};
use pledgeroll_sandbox::assets::{TEZ, USD};

pub(super) const TEZ_ID: AssetId = AssetId(TEZ.asset_id);
pub(super) const USD_ID: AssetId = AssetId(USD.asset_id);
/// One unit of either sandbox asset, in base units (6 decimals).
pub(super) const UNIT: u64 = 1_000_000;
/// Periods as operations carry them, in `u32` seconds.
const WEEK: u32 = units::WEEK as u32;
pub(super) const MONTH: u32 = units::MONTH as u32;

/// A demo account: a name and a key derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoAccount {
    /// Who they are in the story.
    pub name: &'static str,
}

impl DemoAccount {
    /// The account's ed25519 key: blake2b-256 of `pledgeroll-demo:<name>`.
    pub fn secret_key(&self) -> SecretKey {
        let seed = blake2b_256(format!("pledgeroll-demo:{}", self.name).as_bytes());
        SecretKey::from_bytes(Curve::Ed25519, seed)
            .unwrap_or_else(|_| unreachable!("every 32-byte string is an ed25519 seed"))
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.secret_key().public_key().address()
    }
}

/// The demo's creators.
pub const CREATORS: [DemoAccount; 3] = [MIRA, TARMAC, INES];
/// The demo's patrons.
pub const PATRONS: [DemoAccount; 4] = [JUN, KOFI, LEA, SAM];

const MIRA: DemoAccount = DemoAccount {
    name: "Mira Okafor",
};
const TARMAC: DemoAccount = DemoAccount {
    name: "Tarmac Collective",
};
const INES: DemoAccount = DemoAccount {
    name: "Ines Duarte",
};
const JUN: DemoAccount = DemoAccount { name: "Jun" };
const KOFI: DemoAccount = DemoAccount { name: "Kofi" };
const LEA: DemoAccount = DemoAccount { name: "Lea" };
pub(super) const SAM: DemoAccount = DemoAccount { name: "Sam" };

/// A creator's page.
pub(super) struct Page {
    pub(super) creator: DemoAccount,
    pub(super) description: &'static str,
    pub(super) link: &'static str,
}

pub(super) const PAGES: [Page; 3] = [
    Page {
        creator: MIRA,
        description: "Field recordings from the creeks and markets of the Niger delta, mixed and released every month under CC BY.",
        link: "https://example.org/mira-okafor",
    },
    Page {
        creator: TARMAC,
        description: "Four maintainers of open-source tooling for Tezos smart rollups: debuggers, indexers and test harnesses.",
        link: "https://example.org/tarmac",
    },
    Page {
        creator: INES,
        description: "Lanternfish, a serialized graphic novel about a lighthouse keeper's daughter; a new chapter every two weeks.",
        link: "https://example.org/lanternfish",
    },
];

/// A tier a creator offers; a creator's tiers are told apart by title.
pub(super) struct TierTerms {
    pub(super) creator: DemoAccount,
    pub(super) title: &'static str,
    pub(super) perks: &'static str,
    pub(super) asset: AssetId,
    pub(super) units_per_period: u64,
    pub(super) period: u32,
    pub(super) patron_limit: Option<u32>,
}

pub(super) const TIERS: [TierTerms; 7] = [
    TierTerms {
        creator: MIRA,
        title: "Listener",
        perks: "The monthly recording, a week early.",
        asset: TEZ_ID,
        units_per_period: 2 * UNIT,
        period: MONTH,
        patron_limit: None,
    },
    TierTerms {
        creator: MIRA,
        title: "Supporter",
        perks: "Early recordings and the raw stems.",
        asset: TEZ_ID,
        units_per_period: 5 * UNIT,
        period: MONTH,
        patron_limit: None,
    },
    TierTerms {
        creator: MIRA,
        title: "Archive patron",
        perks: "Your name in the liner notes and a say in where we record next.",
        asset: TEZ_ID,
        units_per_period: 20 * UNIT,
        period: MONTH,
        patron_limit: Some(25),
    },
    TierTerms {
        creator: TARMAC,
        title: "Backer",
        perks: "Our thanks in every release note.",
        asset: USD_ID,
        units_per_period: 10 * UNIT,
        period: MONTH,
        patron_limit: None,
    },
    TierTerms {
        creator: TARMAC,
        title: "Sponsor",
        perks: "Your logo on the README and a monthly call with the team.",
        asset: USD_ID,
        units_per_period: 100 * UNIT,
        period: MONTH,
        patron_limit: Some(10),
    },
    TierTerms {
        creator: INES,
        title: "Reader",
        perks: "Each chapter the day it is inked.",
        asset: TEZ_ID,
        units_per_period: UNIT,
        period: WEEK,
        patron_limit: None,
    },
    TierTerms {
        creator: INES,
        title: "Collector",
        perks: "A signed print of every cover.",
        asset: TEZ_ID,
        units_per_period: 15 * UNIT,
        period: MONTH,
        patron_limit: Some(50),
    },
];

/// A patron's pledge to a creator's tier, named by its title.
pub(super) struct TierPledge {
    pub(super) patron: DemoAccount,
    pub(super) creator: DemoAccount,
    pub(super) tier: &'static str,
}

/// Sam's 3 tez last him 18 days at 5 tez a month.
pub(super) const TIER_PLEDGES: [TierPledge; 8] = [
    TierPledge {
        patron: JUN,
        creator: MIRA,
        tier: "Supporter",
    },
    TierPledge {
        patron: JUN,
        creator: TARMAC,
        tier: "Backer",
    },
    TierPledge {
        patron: KOFI,
        creator: MIRA,
        tier: "Archive patron",
    },
    TierPledge {
        patron: KOFI,
        creator: TARMAC,
        tier: "Sponsor",
    },
    TierPledge {
        patron: KOFI,
        creator: INES,
        tier: "Reader",
    },
    TierPledge {
        patron: LEA,
        creator: MIRA,
        tier: "Listener",
    },
    TierPledge {
        patron: LEA,
        creator: INES,
        tier: "Collector",
    },
    TierPledge {
        patron: SAM,
        creator: MIRA,
        tier: "Supporter",
    },
];

pub(super) const TIPPER: DemoAccount = JUN;
pub(super) const TIP_RECEIVER: DemoAccount = INES;
pub(super) const TIP_UNITS: u64 = 2 * UNIT;
pub(super) const TIP_MEMO: &str = "Chapter four made me cry. More lighthouse, please!";

/// The project's creator; the demo knows its project by creator and title.
pub(super) const PROJECT_CREATOR: DemoAccount = TARMAC;
pub(super) const PROJECT_TITLE: &str = "Rollup indexer grants";
pub(super) const PROJECT_DESCRIPTION: &str = "A shared fund for the open-source indexer every creator's directory runs on: bounties for features the community asks for, paid when two of three commissioners agree or when the time-lock passes without a veto.";
pub(super) const PROJECT_LINK: &str = "https://example.org/tarmac/indexer-grants";
pub(super) const COMMISSIONERS: [DemoAccount; 3] = [TARMAC, MIRA, INES];

/// One-off funding of the project, in usd.
pub(super) const FUNDINGS: [(DemoAccount, u64); 2] = [(JUN, 400 * UNIT), (KOFI, 600 * UNIT)];

/// Lea's pledge to the project, in usd.
pub(super) const PROJECT_PATRON: DemoAccount = LEA;
pub(super) const PROJECT_PLEDGE_UNITS: u64 = 50 * UNIT;
pub(super) const PROJECT_PLEDGE_CAP: u64 = 300 * UNIT;

/// A work ticket; the project's tickets are told apart by title.
pub(super) struct TicketTerms {
    pub(super) opener: DemoAccount,
    pub(super) title: &'static str,
    pub(super) url: &'static str,
    pub(super) budget_units: u64,
}

pub(super) const TICKETS: [TicketTerms; 3] = [
    TicketTerms {
        opener: TARMAC,
        title: "Bulk import with COPY on Postgres",
        url: "https://example.org/tarmac/indexer/issues/12",
        budget_units: 250 * UNIT,
    },
    TicketTerms {
        opener: TARMAC,
        title: "Atom feed for every project",
        url: "https://example.org/tarmac/indexer/issues/19",
        budget_units: 150 * UNIT,
    },
    TicketTerms {
        opener: MIRA,
        title: "Audio embeds on creator pages",
        url: "https://example.org/tarmac/indexer/issues/23",
        budget_units: 200 * UNIT,
    },
];

/// The invoice for a ticket, raised by Tarmac to itself in usd.
pub(super) struct InvoiceTerms {
    pub(super) ticket: &'static str,
    pub(super) units: u64,
}

pub(super) const INVOICER: DemoAccount = TARMAC;
pub(super) const FIRST_INVOICE: InvoiceTerms = InvoiceTerms {
    ticket: "Bulk import with COPY on Postgres",
    units: 250 * UNIT,
};
pub(super) const SECOND_INVOICE: InvoiceTerms = InvoiceTerms {
    ticket: "Atom feed for every project",
    units: 150 * UNIT,
};
/// The second commissioner, whose approval pays the first invoice.
pub(super) const APPROVER: DemoAccount = INES;
