//! Operations as people write them: amounts with their asset (`5 tez`),
//! dates, durations and periods in words, accounts as addresses.
//!
//! A [`Request`] is what the `pledgeroll` commands fill in from their
//! arguments and what a web page sends the directory's builder as JSON
//! (`{"kind": "pledge", "tier": 7, "amount": "8 tez"}`); [`Request::operation`]
//! reads it against the rollup's state (a tier's asset, the assets' names)
//! into the [`Operation`] the `contracts` crate encodes.

use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Budget, ProjectOperation};
use pledgeroll_contracts::state::{PledgeEnd, Profile, MAX_LINKS};
use pledgeroll_contracts::{
    Address, AssetId, Contract, Holder, Operation, PledgeId, ProjectId, TierId,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::assets::{parse_period, parse_units, split_symbol, AmountError, AssetInfo};
use crate::wallet::{Wallet, WalletError};

/// Why a request does not make an operation.
#[derive(Debug, Error)]
pub enum RequestError {
    /// An amount or period that does not read.
    #[error(transparent)]
    Amount(#[from] AmountError),
    /// An amount in another asset than the one it must be in.
    #[error("this amount is in {expected}, not {given}")]
    OtherAsset {
        /// The asset it must be in.
        expected: String,
        /// The symbol written.
        given: String,
    },
    /// No asset has this name.
    #[error("the rollup has no asset named `{0}` yet; deposit some first")]
    UnknownAsset(String),
    /// A text over its field's length.
    #[error("the {what} is longer than {max} bytes")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its most bytes.
        max: usize,
    },
    /// More items than a list holds.
    #[error("at most {max} {what}")]
    TooMany {
        /// The items.
        what: &'static str,
        /// Their most.
        max: usize,
    },
    /// Something that should be an address, a date or a duration is not.
    #[error("{0}")]
    Malformed(String),
    /// The request names a record the rollup does not have.
    #[error("there is no {0}")]
    Unknown(String),
    /// Reading the rollup's state failed.
    #[error(transparent)]
    Wallet(#[from] WalletError),
}

/// An operation as people write it. Optional fields may be left out or
/// given as empty strings (as an empty form field sends them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Pledge to a tier: at its price, or `amount` per period if higher;
    /// ending `until` a date or instant, or `for` a duration after it
    /// starts; paying at most `cap` in all.
    Pledge {
        /// The tier's number.
        tier: u64,
        /// More than the tier's price per period, e.g. `8 tez`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<String>,
        /// `2027-03-01` (midnight UTC) or `2027-03-01T12:00:00Z`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        /// A duration such as `180d`, counted from the pledge's start.
        #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
        for_: Option<String>,
        /// The most the pledge pays in all, e.g. `50 tez`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<String>,
    },
    /// Move a pledge to another tier of the same creator.
    ChangePledge {
        /// The pledge's number.
        pledge: u64,
        /// The new tier.
        tier: u64,
        /// More than the new tier's price per period.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<String>,
    },
    /// Pause a pledge.
    PausePledge {
        /// The pledge's number.
        pledge: u64,
    },
    /// Resume a paused pledge.
    ResumePledge {
        /// The pledge's number.
        pledge: u64,
    },
    /// Cancel a pledge for good.
    CancelPledge {
        /// The pledge's number.
        pledge: u64,
    },
    /// Move funds to an account.
    Transfer {
        /// A tz address.
        to: String,
        /// E.g. `5 tez`.
        amount: String,
    },
    /// A one-off gift with a memo, to an account or `project:N`.
    Tip {
        /// A tz address or `project:N`.
        to: String,
        /// E.g. `5 tez`.
        amount: String,
        /// A short message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memo: Option<String>,
    },
    /// Send funds back to layer 1: to the signer's own account unless a
    /// destination is given.
    Withdraw {
        /// E.g. `5 tez`.
        amount: String,
        /// A tz account or a KT1 contract.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        destination: Option<String>,
        /// The entrypoint (`burn` for an account, `default` for a contract
        /// unless given).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entrypoint: Option<String>,
    },
    /// Publish or replace the signer's creator profile.
    SetProfile {
        /// Display name.
        name: String,
        /// What the creator makes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Links to the creator's work.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        links: Vec<String>,
    },
    /// Add a tier to the signer's creator page.
    AddTier {
        /// Short title.
        title: String,
        /// What patrons get.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        perks: Option<String>,
        /// Price per period with its asset, e.g. `5 tez`.
        price: String,
        /// hour, day, week, month (30 days), year or a duration like
        /// `90d`; a month unless given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<String>,
        /// Most patrons the tier takes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        patron_limit: Option<u32>,
    },
    /// Stop a tier from taking new pledges.
    RetireTier {
        /// The tier's number.
        tier: u64,
    },
    /// Pause every pledge to the signer.
    PauseCreator,
    /// Resume the pledges the signer's pause stopped.
    ResumeCreator,
    /// Put funds in a project's escrow.
    Fund {
        /// The project's number.
        project: u64,
        /// E.g. `100 tez`.
        amount: String,
    },
    /// Stream funds to a project's escrow.
    PledgeToProject {
        /// The project's number.
        project: u64,
        /// Per period, e.g. `10 tez`.
        amount: String,
        /// A month unless given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<String>,
        /// `2027-03-01` (midnight UTC) or `2027-03-01T12:00:00Z`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        /// A duration such as `180d`, counted from the pledge's start.
        #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
        for_: Option<String>,
        /// The most it pays in all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<String>,
    },
    /// Open a work ticket (commissioners).
    OpenTicket {
        /// The project's number.
        project: u64,
        /// What the work is.
        title: String,
        /// The issue it tracks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// Its budget, e.g. `200 tez`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget: Option<String>,
    },
    /// Close a work ticket (commissioners).
    CloseTicket {
        /// The project's number.
        project: u64,
        /// The ticket's number.
        ticket: u32,
    },
    /// Raise an invoice against a ticket (commissioners).
    RaiseInvoice {
        /// The project's number.
        project: u64,
        /// The ticket's number.
        ticket: u32,
        /// E.g. `150 tez`.
        amount: String,
        /// Who is paid: a tz address.
        beneficiary: String,
    },
    /// Approve an invoice (commissioners).
    Approve {
        /// The project's number.
        project: u64,
        /// The invoice's number.
        invoice: u32,
    },
    /// Veto an invoice (commissioners).
    Veto {
        /// The project's number.
        project: u64,
        /// The invoice's number.
        invoice: u32,
    },
    /// Withdraw an invoice one raised.
    WithdrawInvoice {
        /// The project's number.
        project: u64,
        /// The invoice's number.
        invoice: u32,
    },
    /// Approve opening a project's refunds (commissioners).
    ApproveRefund {
        /// The project's number.
        project: u64,
    },
    /// Take back one's share of a project's escrow once refunds open.
    Reclaim {
        /// The project's number.
        project: u64,
    },
}

impl Request {
    /// The operation `signer` would send for this request, read against the
    /// rollup's state through `w`.
    pub async fn operation(&self, w: &Wallet, signer: &Address) -> Result<Operation, RequestError> {
        let project = |op| Operation::Project { op };
        Ok(match self {
            Request::Pledge {
                tier,
                amount,
                until,
                for_,
                cap,
            } => {
                let info = tier_asset(w, TierId(*tier)).await?;
                Operation::Pledge {
                    tier: TierId(*tier),
                    amount: given(amount).map(|a| units_in(a, &info)).transpose()?,
                    end: pledge_end(given(for_), given(until))?,
                    cap: given(cap).map(|c| units_in(c, &info)).transpose()?,
                }
            }
            Request::ChangePledge {
                pledge,
                tier,
                amount,
            } => {
                let info = tier_asset(w, TierId(*tier)).await?;
                Operation::ChangePledge {
                    pledge: PledgeId(*pledge),
                    tier: TierId(*tier),
                    amount: given(amount).map(|a| units_in(a, &info)).transpose()?,
                }
            }
            Request::PausePledge { pledge } => Operation::PausePledge {
                pledge: PledgeId(*pledge),
            },
            Request::ResumePledge { pledge } => Operation::ResumePledge {
                pledge: PledgeId(*pledge),
            },
            Request::CancelPledge { pledge } => Operation::CancelPledge {
                pledge: PledgeId(*pledge),
            },
            Request::Transfer { to, amount: a } => {
                let (asset, units, _) = amount(w, a).await?;
                Operation::Transfer {
                    to: address(to)?,
                    asset,
                    amount: units,
                }
            }
            Request::Tip {
                to,
                amount: a,
                memo,
            } => {
                let (asset, units, _) = amount(w, a).await?;
                Operation::Tip {
                    to: holder(to)?,
                    asset,
                    amount: units,
                    memo: text("memo", given(memo).unwrap_or_default())?,
                }
            }
            Request::Withdraw {
                amount: a,
                destination,
                entrypoint,
            } => {
                let (asset, units, _) = amount(w, a).await?;
                let destination = match given(destination) {
                    Some(d) => d.parse::<Contract>().map_err(|e| {
                        RequestError::Malformed(format!("the destination `{d}`: {e}"))
                    })?,
                    None => Contract::Implicit(*signer),
                };
                let entrypoint = given(entrypoint).unwrap_or(match destination {
                    Contract::Implicit(_) => "burn",
                    Contract::Originated(_) => "default",
                });
                Operation::Withdraw {
                    asset,
                    amount: units,
                    destination,
                    entrypoint: text("entrypoint", entrypoint)?,
                }
            }
            Request::SetProfile {
                name,
                description,
                links,
            } => {
                let links = links
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| text("link", l.trim()))
                    .collect::<Result<Vec<_>, _>>()?;
                Operation::SetProfile {
                    profile: Profile {
                        name: text("name", name)?,
                        description: text("description", given(description).unwrap_or_default())?,
                        links: List::new(links).map_err(|_| RequestError::TooMany {
                            what: "links",
                            max: MAX_LINKS,
                        })?,
                    },
                }
            }
            Request::AddTier {
                title,
                perks,
                price,
                period,
                patron_limit,
            } => {
                let (asset, units, _) = amount(w, price).await?;
                Operation::AddTier {
                    title: text("title", title)?,
                    perks: text("perks", given(perks).unwrap_or_default())?,
                    asset,
                    amount_per_period: units,
                    period: parse_period(given(period).unwrap_or("month"))?,
                    patron_limit: *patron_limit,
                }
            }
            Request::RetireTier { tier } => Operation::RetireTier {
                tier: TierId(*tier),
            },
            Request::PauseCreator => Operation::PauseCreator,
            Request::ResumeCreator => Operation::ResumeCreator,
            Request::Fund {
                project: p,
                amount: a,
            } => {
                let (asset, units, _) = amount(w, a).await?;
                project(ProjectOperation::Fund {
                    project: ProjectId(*p),
                    asset,
                    amount: units,
                })
            }
            Request::PledgeToProject {
                project: p,
                amount: a,
                period,
                until,
                for_,
                cap,
            } => {
                let (asset, units, info) = amount(w, a).await?;
                project(ProjectOperation::Pledge {
                    project: ProjectId(*p),
                    asset,
                    amount_per_period: units,
                    period: parse_period(given(period).unwrap_or("month"))?,
                    end: pledge_end(given(for_), given(until))?,
                    cap: given(cap).map(|c| units_in(c, &info)).transpose()?,
                })
            }
            Request::OpenTicket {
                project: p,
                title,
                url,
                budget,
            } => {
                let budget = match given(budget) {
                    Some(b) => {
                        let (asset, amount, _) = amount(w, b).await?;
                        Some(Budget { asset, amount })
                    }
                    None => None,
                };
                project(ProjectOperation::OpenTicket {
                    project: ProjectId(*p),
                    title: text("title", title)?,
                    url: given(url).map(|u| text("url", u)).transpose()?,
                    budget,
                })
            }
            Request::CloseTicket { project: p, ticket } => project(ProjectOperation::CloseTicket {
                project: ProjectId(*p),
                ticket: *ticket,
            }),
            Request::RaiseInvoice {
                project: p,
                ticket,
                amount: a,
                beneficiary,
            } => {
                let (asset, units, _) = amount(w, a).await?;
                project(ProjectOperation::RaiseInvoice {
                    project: ProjectId(*p),
                    ticket: *ticket,
                    beneficiary: address(beneficiary)?,
                    asset,
                    amount: units,
                })
            }
            Request::Approve {
                project: p,
                invoice,
            } => project(ProjectOperation::Approve {
                project: ProjectId(*p),
                invoice: *invoice,
            }),
            Request::Veto {
                project: p,
                invoice,
            } => project(ProjectOperation::Veto {
                project: ProjectId(*p),
                invoice: *invoice,
            }),
            Request::WithdrawInvoice {
                project: p,
                invoice,
            } => project(ProjectOperation::WithdrawInvoice {
                project: ProjectId(*p),
                invoice: *invoice,
            }),
            Request::ApproveRefund { project: p } => project(ProjectOperation::ApproveRefund {
                project: ProjectId(*p),
            }),
            Request::Reclaim { project: p } => project(ProjectOperation::Reclaim {
                project: ProjectId(*p),
            }),
        })
    }
}

/// An optional field that was given: present and not blank.
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `s` as a bounded text, or an error naming `what` is too long.
pub fn text<const N: usize>(what: &'static str, s: &str) -> Result<Text<N>, RequestError> {
    Text::new(s).map_err(|_| RequestError::TooLong { what, max: N })
}

/// A tz address.
pub fn address(s: &str) -> Result<Address, RequestError> {
    s.trim()
        .parse()
        .map_err(|_| RequestError::Malformed(format!("`{s}` is not a tz1, tz2 or tz3 address")))
}

/// A tz address or `project:N`.
pub fn holder(s: &str) -> Result<Holder, RequestError> {
    match s.trim().strip_prefix("project:") {
        Some(n) => n
            .parse()
            .map(|n| Holder::Project(ProjectId(n)))
            .map_err(|_| {
                RequestError::Malformed(format!("`{s}`: `project:N` needs a project number"))
            }),
        None => Ok(Holder::Account(address(s)?)),
    }
}

/// Reads `5 tez` into an asset and base units (tez when no asset is
/// named).
pub async fn amount(w: &Wallet, s: &str) -> Result<(AssetId, u64, AssetInfo), RequestError> {
    let (number, symbol) = split_symbol(s);
    let symbol = symbol.unwrap_or("tez");
    let (id, info) = w
        .asset_by_symbol(symbol)
        .await?
        .ok_or_else(|| RequestError::UnknownAsset(symbol.to_owned()))?;
    Ok((id, parse_units(number, &info)?, info))
}

/// Reads an amount in a known asset (its symbol optional).
pub fn units_in(s: &str, info: &AssetInfo) -> Result<u64, RequestError> {
    let (number, symbol) = split_symbol(s);
    if let Some(given) = symbol {
        if !given.eq_ignore_ascii_case(&info.symbol) {
            return Err(RequestError::OtherAsset {
                expected: info.symbol.clone(),
                given: given.to_owned(),
            });
        }
    }
    Ok(parse_units(number, info)?)
}

/// How tier `tier`'s asset is written, or an error when there is no such
/// tier.
pub async fn tier_asset(w: &Wallet, tier: TierId) -> Result<AssetInfo, RequestError> {
    let t = w
        .tier(tier)
        .await?
        .ok_or_else(|| RequestError::Unknown(format!("tier {}", tier.0)))?;
    Ok(w.asset_info(t.asset).await?)
}

/// Reads a duration such as `90d` or `72h` into seconds.
pub fn seconds(s: &str) -> Result<u64, RequestError> {
    humantime::parse_duration(s.trim())
        .map(|d| d.as_secs())
        .map_err(|_| RequestError::Malformed(format!("`{s}` is not a duration like 180d or 72h")))
}

/// When a pledge ends: `for` a duration from its start, or `until` a date
/// (midnight UTC) or an RFC 3339 instant.
pub fn pledge_end(
    for_: Option<&str>,
    until: Option<&str>,
) -> Result<Option<PledgeEnd>, RequestError> {
    match (for_, until) {
        (Some(_), Some(_)) => Err(RequestError::Malformed(
            "a pledge ends after a duration or at a date, not both".to_owned(),
        )),
        (Some(d), None) => Ok(Some(PledgeEnd::After {
            seconds: seconds(d)?,
        })),
        (None, Some(u)) => {
            let u = u.trim();
            let instant = if u.len() == 10 {
                format!("{u}T00:00:00Z")
            } else {
                u.to_owned()
            };
            let bad = || {
                RequestError::Malformed(format!(
                    "`{u}` is not a date like 2027-03-01 or 2027-03-01T12:00:00Z"
                ))
            };
            let at = humantime::parse_rfc3339_weak(&instant).map_err(|_| bad())?;
            let time = at
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| bad())?
                .as_secs();
            Ok(Some(PledgeEnd::At { time }))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_from_json_as_forms_send_them() {
        let r: Request = serde_json::from_str(
            r#"{"kind": "pledge", "tier": 7, "amount": "", "until": "2027-03-01", "cap": "50 tez"}"#,
        )
        .expect("reads");
        let Request::Pledge {
            tier,
            amount,
            until,
            ..
        } = &r
        else {
            panic!("a pledge: {r:?}");
        };
        assert_eq!(
            (*tier, given(amount), given(until)),
            (7, None, Some("2027-03-01"))
        );
        let r: Request = serde_json::from_str(r#"{"kind": "pause_creator"}"#).expect("reads");
        assert_eq!(r, Request::PauseCreator);
        let unknown = serde_json::from_str::<Request>(r#"{"kind": "pledge", "tier": 1, "tip": 3}"#);
        assert!(unknown.is_err(), "unknown fields are refused");
        let kind = serde_json::from_str::<Request>(r#"{"kind": "mint"}"#);
        assert!(kind.is_err(), "unknown kinds are refused");
    }

    #[test]
    fn a_pledge_ends_after_a_duration_or_at_a_date_never_both() {
        assert_eq!(
            pledge_end(Some("10d"), None).expect("reads"),
            Some(PledgeEnd::After { seconds: 864_000 })
        );
        assert_eq!(
            pledge_end(None, Some("2027-03-01")).expect("reads"),
            Some(PledgeEnd::At {
                time: 1_803_859_200
            })
        );
        assert!(pledge_end(Some("10d"), Some("2027-03-01")).is_err());
        let bad = pledge_end(None, Some("March")).expect_err("not a date");
        assert!(bad.to_string().contains("not a date"), "{bad}");
    }

    #[test]
    fn holders_are_addresses_or_projects() {
        assert_eq!(
            holder("project:4").expect("reads"),
            Holder::Project(ProjectId(4))
        );
        assert!(holder("project:x").is_err());
        assert!(address("tz9nope").is_err());
    }
}
