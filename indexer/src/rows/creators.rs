//! Creators and tiers: profiles, and the tiers patrons pledge to, with
//! the patron counts the mirror keeps over them. A count is of patrons, not
//! of pledges: a patron with two pledges to one creator is one patron, so
//! the mirror keeps each patron's pledges per tier and per creator.

use pledgeroll_contracts::state::{PauseClock, Profile, Tier};
use pledgeroll_contracts::{AssetId, TierId};

use super::{
    address, address_text, base, json_list, list, monthly_units, parse_list, text, uint, uint32,
};
use crate::error::{int, IndexError};
use crate::schema::table;

table! {
    /// A creator: profile, pause, and patron counts over its tiers.
    CreatorRow in "creators" {
        key {
            /// The creator's address.
            address: String,
        }
        /// Display name.
        name: String,
        /// The name in lower case, for search.
        name_lower: String,
        /// What the creator makes.
        description: String,
        /// Links, a JSON array of strings.
        links: String,
        /// Whether the whole subscription is paused.
        paused: bool,
        /// Seconds the subscription spent paused before the current pause
        /// (the protocol's pause clock).
        paused_seconds: i64,
        /// When the current pause began, while paused.
        paused_since: Option<i64>,
        /// Tiers ever added.
        tiers: i64,
        /// Patrons with a live (active or paused) pledge to any of its tiers.
        patrons: i64,
        /// Patrons with a pledge streaming now to any of its tiers.
        active_patrons: i64,
        /// The level that published the profile first.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
    // Creators by patrons, by streaming patrons, by name.
    index creators_patrons ("patrons DESC, address");
    index creators_active_patrons ("active_patrons DESC, address");
    index creators_name ("name_lower, address");
}

table! {
    /// A tier: its fixed terms and its patron counts.
    TierRow in "tiers" {
        key {
            /// The tier.
            tier_id: i64,
        }
        /// The creator offering it.
        creator: String,
        /// Title.
        title: String,
        /// What patrons get.
        perks: String,
        /// The asset pledges pay in.
        asset_id: i64,
        /// Price per period, base units.
        amount_per_period: u128,
        /// Period, seconds.
        period: i64,
        /// Price per 30 days, base units (rounded down).
        monthly_units: i64,
        /// Most live pledges, if limited.
        patron_limit: Option<i64>,
        /// Live (active or paused) pledges, as the protocol counts them
        /// against `patron_limit`.
        patrons: i64,
        /// Patrons with a pledge streaming now.
        active_patrons: i64,
        /// Retired tiers take no new pledges.
        retired: bool,
        /// The level that added it.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
    index tiers_creator ("creator, tier_id");
}

table! {
    /// One patron's pledges to one tier: what makes the tier's count of
    /// streaming patrons a count of patrons.
    TierPatronRow in "tier_patrons" {
        key {
            /// The tier.
            tier_id: i64,
            /// The patron.
            patron: String,
        }
        /// Their live (active or paused) pledges to it.
        live_pledges: i64,
        /// Their pledges streaming now to it.
        streaming_pledges: i64,
    }
}

table! {
    /// One patron's pledges to one creator, over all its tiers: what makes
    /// the creator's counts counts of patrons.
    CreatorPatronRow in "creator_patrons" {
        key {
            /// The creator.
            creator: String,
            /// The patron.
            patron: String,
        }
        /// Their live (active or paused) pledges to the creator's tiers.
        live_pledges: i64,
        /// Their pledges streaming now to the creator's tiers.
        streaming_pledges: i64,
    }
}

impl CreatorRow {
    /// Takes a pause or resume in.
    pub fn set_pause(&mut self, pause: &PauseClock) -> Result<(), IndexError> {
        self.paused = pause.is_paused();
        self.paused_seconds = int(pause.paused_seconds, "pause clock")?;
        self.paused_since = pause
            .paused_since
            .map(|t| int(t, "pause time"))
            .transpose()?;
        Ok(())
    }

    /// The pause clock this row mirrors.
    pub fn pause(&self) -> Result<PauseClock, IndexError> {
        Ok(PauseClock {
            paused_seconds: uint("creators", self.paused_seconds)?,
            paused_since: self.paused_since.map(|t| uint("creators", t)).transpose()?,
        })
    }

    /// Takes a profile in.
    pub fn set_profile(&mut self, profile: &Profile) {
        self.name = profile.name.as_str().to_owned();
        self.name_lower = self.name.to_lowercase();
        self.description = profile.description.as_str().to_owned();
        self.links = json_list(profile.links.items());
    }

    /// The profile this row mirrors.
    pub fn profile(&self) -> Result<Profile, IndexError> {
        let links: Vec<String> = parse_list("creators", &self.links)?;
        Ok(Profile {
            name: text("creators", &self.name)?,
            description: text("creators", &self.description)?,
            links: list(
                "creators",
                links
                    .iter()
                    .map(|l| text("creators", l))
                    .collect::<Result<_, _>>()?,
            )?,
        })
    }
}

impl TierRow {
    /// The row of a tier record, keeping the mirror's own counts from `old`.
    pub fn from_tier(
        id: TierId,
        tier: &Tier,
        old: Option<&TierRow>,
        level: u32,
    ) -> Result<Self, IndexError> {
        let rate = pledgeroll_contracts::stream::rate_for(tier.amount_per_period, tier.period)
            .unwrap_or(0);
        Ok(TierRow {
            tier_id: int(id.0, "tier id")?,
            creator: address_text(&tier.creator),
            title: tier.title.as_str().to_owned(),
            perks: tier.perks.as_str().to_owned(),
            asset_id: i64::from(tier.asset.0),
            amount_per_period: u128::from(tier.amount_per_period),
            period: i64::from(tier.period),
            monthly_units: monthly_units(rate),
            patron_limit: tier.patron_limit.map(i64::from),
            patrons: i64::from(tier.patrons),
            active_patrons: old.map_or(0, |o| o.active_patrons),
            retired: tier.retired,
            created_level: old.map_or(i64::from(level), |o| o.created_level),
            updated_level: i64::from(level),
        })
    }

    /// The tier record this row mirrors.
    pub fn tier(&self) -> Result<Tier, IndexError> {
        const T: &str = "tiers";
        Ok(Tier {
            creator: address(T, &self.creator)?,
            title: text(T, &self.title)?,
            perks: text(T, &self.perks)?,
            asset: AssetId(uint32(T, self.asset_id)?),
            amount_per_period: base(T, self.amount_per_period)?,
            period: uint32(T, self.period)?,
            patron_limit: self.patron_limit.map(|l| uint32(T, l)).transpose()?,
            patrons: uint32(T, self.patrons)?,
            retired: self.retired,
        })
    }
}
