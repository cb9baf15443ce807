//! Figures as people read them, the same in every pledgeroll tool: amounts
//! in an asset's decimals, periods and durations in words, instants as UTC
//! dates; and the lengths of time pledgeroll counts in.
//!
//! - amounts: [`format_units`] (`5.25 tez`), [`format_decimal`] (`5.25`);
//! - lengths of time: [`format_duration`] (`1 month 3 days`),
//!   [`format_period`] (`month`, or a duration);
//! - instants: [`format_time`] (`2023-11-14 22:13 UTC`),
//!   [`format_rfc3339`] (`2023-11-14T22:13:20Z`), [`format_date`].
//!
//! Everything here is arithmetic on its arguments (no clock, no locale), so
//! the kernel's build and the wallet, the sandbox and the directory print a
//! figure the same way.

/// Seconds in a minute.
pub const MINUTE: u64 = 60;
/// Seconds in an hour.
pub const HOUR: u64 = 60 * MINUTE;
/// Seconds in a day; pledgeroll's clock has no leap seconds.
pub const DAY: u64 = 24 * HOUR;
/// Seconds in a week.
pub const WEEK: u64 = 7 * DAY;
/// Seconds in a month, which pledgeroll always counts as 30 days: a tier
/// priced per `month` and a balance's flow "per month" both mean this.
pub const MONTH: u64 = 30 * DAY;
/// Seconds in a year, which pledgeroll always counts as 365 days.
pub const YEAR: u64 = 365 * DAY;

/// The periods that have a name, as a tier or a pledge names its period:
/// `5 tez/month`. Parsers and [`format_period`] read the same table, so a
/// name that prints also reads back.
pub const PERIODS: [(&str, u64); 5] = [
    ("hour", HOUR),
    ("day", DAY),
    ("week", WEEK),
    ("month", MONTH),
    ("year", YEAR),
];

/// The units a duration is told in, largest first.
const DURATION_UNITS: [(u64, &str); 6] = [
    (YEAR, "year"),
    (MONTH, "month"),
    (DAY, "day"),
    (HOUR, "hour"),
    (MINUTE, "minute"),
    (1, "second"),
];

/// `units` base units of an asset with `decimals` places, without a
/// symbol: `5250000`, 6 → `5.25`. Trailing zeros of the fraction are
/// dropped, and so is the point when nothing follows it. No thousands
/// separators: the figure reads back as it is written.
pub fn format_decimal(units: u128, decimals: u8) -> String {
    let places = usize::from(decimals);
    let digits = units.to_string();
    if places == 0 {
        return digits;
    }
    // Padding to one more digit than the places leaves at least a `0`
    // before the point, and builds the fraction from the digits themselves,
    // so no power of ten is computed (it would not fit a u128 past 38
    // places).
    let padded = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// `units` base units of an asset with `decimals` places and its symbol:
/// `5.25 tez`, `5 tez`, `0.000001 tez`.
pub fn format_units(units: u128, decimals: u8, symbol: &str) -> String {
    format!("{} {symbol}", format_decimal(units, decimals))
}

/// A duration in words, in its largest unit and the next one down when
/// that is not zero: `59 seconds`, `1 hour`, `1 month 3 days`,
/// `164 years 4 months`; `0 seconds` for zero.
///
/// Months are [`MONTH`] and years [`YEAR`]. The rest below the second unit
/// is dropped (`1 month 5 seconds` reads `1 month`): the figure is for a
/// glance, the seconds are in the JSON. A signed difference that may be
/// negative should saturate at zero before it comes here.
pub fn format_duration(seconds: u64) -> String {
    let mut units = DURATION_UNITS
        .iter()
        .skip_while(|(size, _)| seconds < *size);
    let Some(&(size, name)) = units.next() else {
        return count(0, "second");
    };
    let mut text = count(seconds / size, name);
    if let Some(&(next, next_name)) = units.next() {
        let n = seconds % size / next;
        if n > 0 {
            text.push(' ');
            text.push_str(&count(n, next_name));
        }
    }
    text
}

/// `n` of a unit, with the plural when `n` is not one: `1 day`, `3 days`.
fn count(n: u64, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A period as a price reads it after its `/`: the name of one of the
/// [`PERIODS`] (`month`, `week`, …), or else the duration in words
/// ([`format_duration`], e.g. `3 months 1 day`).
pub fn format_period(seconds: u64) -> String {
    PERIODS
        .iter()
        .find(|(_, size)| *size == seconds)
        .map_or_else(|| format_duration(seconds), |(name, _)| (*name).to_owned())
}

/// Seconds in a day, signed, for instants before the epoch.
const DAY_SIGNED: i64 = DAY as i64;

/// An instant, in Unix seconds, as its UTC date and minute:
/// `2023-11-14 22:13 UTC`, the way pages and summaries show a time.
/// Seconds are dropped; instants before 1970 are dated too
/// (`1969-12-31 23:59 UTC`).
pub fn format_time(unix: i64) -> String {
    let (day, hour, minute, _) = split_instant(unix);
    format!("{} {hour:02}:{minute:02} UTC", format_date(day))
}

/// An instant, in Unix seconds, in RFC 3339's UTC form to the second:
/// `2023-11-14T22:13:20Z`, the way a command line shows a time that may be
/// pasted elsewhere. Years past 9999 get more digits rather than failing.
pub fn format_rfc3339(unix: i64) -> String {
    let (day, hour, minute, second) = split_instant(unix);
    format!("{}T{hour:02}:{minute:02}:{second:02}Z", format_date(day))
}

/// An instant as its day number and the hour, minute and second of that
/// day.
fn split_instant(unix: i64) -> (i64, i64, i64, i64) {
    let of_day = unix.rem_euclid(DAY_SIGNED);
    (
        unix.div_euclid(DAY_SIGNED),
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60,
    )
}

/// A day, counted from 1970-01-01 as day 0, as `YYYY-MM-DD` in the
/// proleptic Gregorian calendar.
pub fn format_date(day: i64) -> String {
    let (year, month, day) = civil(day);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The year, month and day of a day number (Howard Hinnant's
/// `civil_from_days`, which counts in 400-year eras of 146,097 days so leap
/// years need no table). It counts in i128 so that every i64 day has its
/// exact date.
fn civil(days: i64) -> (i128, i128, i128) {
    // Shifted so eras start on 0000-03-01 and a leap day ends its year.
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn time_constants_nest() {
        assert_eq!(HOUR, 3_600);
        assert_eq!(DAY, 86_400);
        assert_eq!(WEEK, 604_800);
        assert_eq!(MONTH, 2_592_000);
        assert_eq!(YEAR, 31_536_000);
        // A year is not a whole number of 30-day months.
        assert_eq!(format_duration(YEAR), "1 year");
        assert_eq!(format_duration(12 * MONTH), "12 months");
        assert_eq!(format_duration(YEAR - 1), "12 months 4 days");
    }

    #[test]
    fn amounts_drop_trailing_zeros() {
        assert_eq!(format_units(5_250_000, 6, "tez"), "5.25 tez");
        assert_eq!(format_units(5_000_000, 6, "tez"), "5 tez");
        assert_eq!(format_units(1, 6, "tez"), "0.000001 tez");
        assert_eq!(format_units(0, 6, "tez"), "0 tez");
        assert_eq!(format_units(1_500, 0, "asset#7"), "1500 asset#7");
        assert_eq!(format_decimal(10_000_000_000, 6), "10000");
        assert_eq!(format_decimal(10_005_000_003, 6), "10005.000003");
        assert_eq!(format_decimal(42, 0), "42");
        assert_eq!(format_decimal(0, 0), "0");
    }

    #[test]
    fn amounts_at_the_limits_do_not_overflow() {
        assert_eq!(
            format_decimal(u128::MAX, 0),
            "340282366920938463463374607431768211455"
        );
        assert_eq!(
            format_decimal(u128::MAX, 38),
            "3.40282366920938463463374607431768211455"
        );
        // Past 38 places 10^places does not fit a u128; the figure still
        // prints.
        assert_eq!(
            format_decimal(u128::MAX, 39),
            "0.340282366920938463463374607431768211455"
        );
        assert_eq!(format_decimal(1, 255).len(), 2 + 255);
        assert_eq!(format_decimal(0, 255), "0");
        assert_eq!(format_decimal(u128::MAX, 255).split('.').count(), 2);
    }

    /// Reads `text` as `format_decimal` writes it, back into base units.
    fn read_decimal(text: &str, decimals: u8) -> Option<u128> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if fraction.ends_with('0') || fraction.len() > usize::from(decimals) {
            return None;
        }
        let padded = format!("{whole}{fraction:0<width$}", width = usize::from(decimals));
        let digits = padded.trim_start_matches('0');
        if digits.is_empty() {
            Some(0)
        } else {
            digits.parse().ok()
        }
    }

    proptest! {
        #[test]
        fn amounts_read_back(units in any::<u128>(), decimals in 0u8..=60) {
            let text = format_decimal(units, decimals);
            prop_assert_eq!(read_decimal(&text, decimals), Some(units));
        }

        #[test]
        fn durations_keep_their_two_largest_units(seconds in any::<u64>()) {
            let text = format_duration(seconds);
            let words: Vec<&str> = text.split(' ').collect();
            prop_assert!(words.len() == 2 || words.len() == 4, "{}", text);
            let mut told = 0u64;
            let mut sizes = Vec::new();
            for pair in words.chunks(2) {
                let [n, unit] = pair else { return Err(TestCaseError::fail(text.clone())) };
                let n: u64 = n.parse().map_err(|_| TestCaseError::fail(text.clone()))?;
                let (size, _) = DURATION_UNITS
                    .iter()
                    .find(|(_, name)| unit.trim_end_matches('s') == *name)
                    .ok_or_else(|| TestCaseError::fail(text.clone()))?;
                prop_assert_eq!(n == 1, !unit.ends_with('s'));
                told += n * size;
                sizes.push(*size);
            }
            // What is dropped is less than the unit below the largest
            // told: it is what follows that unit, or that unit was zero.
            let largest = sizes.first().copied().unwrap_or(1);
            let below = DURATION_UNITS
                .iter()
                .map(|(size, _)| *size)
                .find(|size| *size < largest)
                .unwrap_or(1);
            prop_assert!(told <= seconds);
            prop_assert!(seconds - told < below || seconds == told, "{}", text);
        }

        #[test]
        fn dates_read_back(day in any::<i64>()) {
            let text = format_date(day);
            prop_assert_eq!(days_from_civil(&text), Some(day));
        }
    }

    /// Hinnant's `days_from_civil`, the inverse of `civil`, for the test.
    fn days_from_civil(text: &str) -> Option<i64> {
        let (sign, text) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text),
        };
        let mut parts = text.split('-');
        let year: i128 = sign * parts.next()?.parse::<i128>().ok()?;
        let month: i128 = parts.next()?.parse().ok()?;
        let day: i128 = parts.next()?.parse().ok()?;
        let year = if month <= 2 { year - 1 } else { year };
        let era = year.div_euclid(400);
        let year_of_era = year.rem_euclid(400);
        let shifted_month = if month > 2 { month - 3 } else { month + 9 };
        let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        i64::try_from(era * 146_097 + day_of_era - 719_468).ok()
    }

    #[test]
    fn durations_read_in_their_two_largest_units() {
        assert_eq!(format_duration(0), "0 seconds");
        assert_eq!(format_duration(1), "1 second");
        assert_eq!(format_duration(59), "59 seconds");
        assert_eq!(format_duration(MINUTE), "1 minute");
        assert_eq!(format_duration(3_600), "1 hour");
        assert_eq!(
            format_duration(2 * HOUR + 30 * MINUTE),
            "2 hours 30 minutes"
        );
        assert_eq!(format_duration(MONTH + 3 * DAY + 5), "1 month 3 days");
        assert_eq!(format_duration(30 * DAY), "1 month");
        assert_eq!(format_duration(5_184_000_000), "164 years 4 months");
    }

    #[test]
    fn durations_drop_what_follows_a_zero_unit() {
        // The unit after the largest is zero, so the seconds are not told.
        assert_eq!(format_duration(MONTH + 5), "1 month");
        assert_eq!(format_duration(DAY + MINUTE), "1 day");
        assert_eq!(format_duration(MONTH - 1), "29 days 23 hours");
        assert_eq!(format_duration(u64::MAX), "584942417355 years");
    }

    #[test]
    fn named_periods_print_their_names() {
        for (name, seconds) in PERIODS {
            assert_eq!(format_period(seconds), name);
        }
        assert_eq!(format_period(2 * HOUR), "2 hours");
        assert_eq!(format_period(90 * DAY), "3 months");
        assert_eq!(format_period(91 * DAY), "3 months 1 day");
        assert_eq!(format_period(0), "0 seconds");
        assert_eq!(format_period(u64::from(u32::MAX)), "136 years 2 months");
    }

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(format_time(-1), "1969-12-31 23:59 UTC");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(253_402_300_800), "10000-01-01T00:00:00Z");
        assert_eq!(format_date(19_675), "2023-11-14");
        // Leap days: every fourth year, not centuries, but every fourth
        // century.
        assert_eq!(format_date(11_016), "2000-02-29");
        assert_eq!(format_date(19_782), "2024-02-29");
        assert_eq!(format_date(-25_508), "1900-03-01");
        assert_eq!(format_date(-25_509), "1900-02-28");
    }

    #[test]
    fn times_at_the_limits_do_not_overflow() {
        assert_eq!(days_from_civil(&format_date(i64::MAX)), Some(i64::MAX));
        assert_eq!(days_from_civil(&format_date(i64::MIN)), Some(i64::MIN));
        assert!(format_time(i64::MAX).ends_with(" UTC"));
        assert!(format_time(i64::MIN).starts_with('-'));
        assert!(format_rfc3339(i64::MAX).ends_with('Z'));
    }
}
