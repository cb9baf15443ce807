//! Amounts as people write them: `5 tez`, `12.5 USD`, `5 tez/month`.
//!
//! The rollup knows assets only as tickets; the wallet names them with an
//! asset book: symbol and decimals per ticket, from `<home>/assets.json`
//! and the sandbox's built-in tickets.

use std::path::Path;

use pledgeroll_contracts::units::{self, DAY, HOUR, MONTH, WEEK, YEAR};
use pledgeroll_contracts::{AssetId, Ticket};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an amount or period could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AmountError {
    /// Not a number.
    #[error("`{0}` is not an amount; write it like `5`, `5.25` or `5 tez`")]
    NotANumber(String),
    /// More decimals than the asset has.
    #[error("{symbol} has {decimals} decimals; `{text}` has more")]
    TooPrecise {
        /// The text.
        text: String,
        /// The asset.
        symbol: String,
        /// Its decimals.
        decimals: u8,
    },
    /// Above what an amount can be.
    #[error("`{0}` is too large")]
    TooLarge(String),
    /// A symbol no known asset has.
    #[error("unknown asset `{0}`; known assets are listed by `pledgeroll status`")]
    UnknownSymbol(String),
    /// A period that is not one of the names nor a duration.
    #[error(
        "`{0}` is not a period; use hour, day, week, month (30 days), year, or a duration like 90d"
    )]
    BadPeriod(String),
}

/// How an asset is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetInfo {
    /// Short name, e.g. `tez`.
    pub symbol: String,
    /// Digits after the decimal point.
    pub decimals: u8,
}

impl AssetInfo {
    /// Shows `units` base units of this asset as `5.25 tez`, as every
    /// pledgeroll tool writes amounts ([`units::format_units`]).
    pub fn format(&self, units: u128) -> String {
        units::format_units(units, self.decimals, &self.symbol)
    }
}

/// One entry of the asset book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookEntry {
    /// The ticketer (`KT1…` or `tz…`).
    pub ticketer: String,
    /// The ticket's token id.
    pub token_id: u64,
    /// The ticket's metadata bytes, hex, if any.
    #[serde(default)]
    pub metadata: Option<String>,
    /// How to show it.
    #[serde(flatten)]
    pub info: AssetInfo,
}

/// Symbols and decimals by ticket.
#[derive(Debug, Clone, Default)]
pub struct AssetBook {
    entries: Vec<BookEntry>,
}

impl AssetBook {
    /// The book in `<home>/assets.json`, after the given built-in entries.
    pub fn load(home: &Path, builtin: Vec<BookEntry>) -> Result<Self, String> {
        let mut entries = builtin;
        let path = home.join("assets.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let more: Vec<BookEntry> =
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                entries.extend(more);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        Ok(Self { entries })
    }

    /// Adds entries after the existing ones (earlier entries win).
    pub fn extend(&mut self, entries: Vec<BookEntry>) {
        self.entries.extend(entries);
    }

    /// How to show `ticket`: its book entry, else the unit the ticket
    /// declares (as statements show it), else its rollup number with no
    /// decimals.
    pub fn info(&self, id: AssetId, ticket: Option<&Ticket>) -> AssetInfo {
        ticket
            .and_then(|t| {
                self.entries.iter().find(|e| {
                    e.ticketer == t.ticketer.to_string()
                        && e.token_id == t.token_id
                        && e.metadata
                            .as_deref()
                            .map(hex::decode)
                            .transpose()
                            .ok()
                            .flatten()
                            == t.metadata
                })
            })
            .map(|e| e.info.clone())
            .or_else(|| {
                let (symbol, decimals) = ticket?.declared_unit()?;
                Some(AssetInfo {
                    symbol: symbol.to_owned(),
                    decimals,
                })
            })
            .unwrap_or_else(|| AssetInfo {
                symbol: format!("asset#{}", id.0),
                decimals: 0,
            })
    }

    /// Whether the book names a ticket `symbol` (case-insensitive).
    pub fn matches(&self, symbol: &str, ticket: &Ticket) -> bool {
        self.info(AssetId(0), Some(ticket))
            .symbol
            .eq_ignore_ascii_case(symbol)
    }
}

/// Reads `text` (e.g. `5.25`) as base units of an asset with `decimals`.
pub fn parse_units(text: &str, info: &AssetInfo) -> Result<u64, AmountError> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
        return Err(AmountError::NotANumber(text.to_owned()));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(info.decimals) {
        return Err(AmountError::TooPrecise {
            text: text.to_owned(),
            symbol: info.symbol.clone(),
            decimals: info.decimals,
        });
    }
    // An asset book may name any number of decimals; past 38 no amount of
    // base units is representable, and the scale itself would overflow.
    let scale = 10u128
        .checked_pow(u32::from(info.decimals))
        .ok_or_else(|| AmountError::TooLarge(text.to_owned()))?;
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| AmountError::TooLarge(text.to_owned()))?
    };
    let frac_units: u128 = if frac.is_empty() {
        0
    } else {
        let padded = format!("{frac:0<width$}", width = usize::from(info.decimals));
        padded
            .parse()
            .map_err(|_| AmountError::NotANumber(text.to_owned()))?
    };
    let total = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_units))
        .ok_or_else(|| AmountError::TooLarge(text.to_owned()))?;
    u64::try_from(total).map_err(|_| AmountError::TooLarge(text.to_owned()))
}

/// Splits `5 tez` into the number and the symbol (if any).
pub fn split_symbol(text: &str) -> (&str, Option<&str>) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((n, s)) => (n, Some(s.trim())),
        None => {
            let at = text
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(text.len());
            let (n, s) = text.split_at(at);
            (n, (!s.is_empty()).then_some(s))
        }
    }
}

/// Reads a period: `hour`, `day`, `week`, `month` (30 days), `year` (365
/// days), or a duration such as `90d` or `12h`.
pub fn parse_period(text: &str) -> Result<u32, AmountError> {
    let secs = match text.trim().to_ascii_lowercase().as_str() {
        "hour" | "hourly" => HOUR,
        "day" | "daily" => DAY,
        "week" | "weekly" => WEEK,
        "month" | "monthly" => MONTH,
        "year" | "yearly" => YEAR,
        other => humantime::parse_duration(other)
            .map_err(|_| AmountError::BadPeriod(text.to_owned()))?
            .as_secs(),
    };
    u32::try_from(secs).map_err(|_| AmountError::BadPeriod(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tez() -> AssetInfo {
        AssetInfo {
            symbol: "tez".into(),
            decimals: 6,
        }
    }

    #[test]
    fn amounts_read_and_print_with_decimals() {
        assert_eq!(parse_units("5", &tez()), Ok(5_000_000));
        assert_eq!(parse_units("5.25", &tez()), Ok(5_250_000));
        assert_eq!(parse_units("0.000001", &tez()), Ok(1));
        assert_eq!(parse_units(".5", &tez()), Ok(500_000));
        assert_eq!(tez().format(5_250_000), "5.25 tez");
        assert_eq!(tez().format(5_000_000), "5 tez");
        assert_eq!(tez().format(1), "0.000001 tez");
    }

    #[test]
    fn bad_amounts_say_what_is_wrong() {
        assert!(matches!(
            parse_units("0.0000001", &tez()),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            parse_units("five", &tez()),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_units("-1", &tez()),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_units("", &tez()),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_units("99999999999999999", &tez()),
            Err(AmountError::TooLarge(_))
        ));
        let too_fine = AssetInfo {
            symbol: "dust".into(),
            decimals: 40,
        };
        assert!(matches!(
            parse_units("1", &too_fine),
            Err(AmountError::TooLarge(_))
        ));
    }

    #[test]
    fn symbols_and_periods() {
        assert_eq!(split_symbol("5 tez"), ("5", Some("tez")));
        assert_eq!(split_symbol("5tez"), ("5", Some("tez")));
        assert_eq!(split_symbol("5"), ("5", None));
        assert_eq!(parse_period("month"), Ok(2_592_000));
        assert_eq!(parse_period("90d"), Ok(7_776_000));
        assert!(parse_period("fortnightish").is_err());
        assert_eq!(parse_period("Monthly"), Ok(2_592_000));
        assert_eq!(parse_period("2h"), Ok(7_200));
        assert!(parse_period("200 years").is_err());
        // Every name a period prints as reads back.
        for (name, secs) in units::PERIODS {
            assert_eq!(parse_period(name).map(u64::from), Ok(secs));
            assert_eq!(units::format_period(secs), name);
        }
    }
}
