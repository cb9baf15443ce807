//! What a signer signs: the operation stated in plain words, with the facts
//! of the state it names, as a packed Michelson string.
//!
//! ```text
//! Tezos Signed Message: pledgeroll sr1… nonce 12 tz1…: pledge 5 tez per month
//! to tz1… for tier 7 "Supporter", until 2027-03-01T00:00:00Z, at most 60 tez in all
//! ```
//!
//! Wallets show a packed string to the person signing, so what they approve
//! is what the rollup will do. The wallet renders the statement from the
//! state it reads; the kernel renders it again from its own state and checks
//! the signature against it, so a signature made for one set of terms never
//! applies to another (a tier's price, a project's title, an invoice's
//! amount and beneficiary are all in the words).
//!
//! The text is canonical: one text per operation, signer, nonce and state.
//! It is printable ASCII only, as Michelson strings are: free text is quoted
//! with `\"`, `\\`, `\n` and `\u{…}` escapes, and free text longer than
//! [`MAX_QUOTED`] bytes is stated by its length and blake2b-256 hash instead
//! (never dropped). Amounts are in the asset's declared unit
//! ([`Ticket::declared_unit`]) or in base units of the numbered asset; times
//! are UTC to the second; durations are exact.

use thiserror::Error;

use crate::asset::{AssetId, Ticket};
use crate::context;
use crate::crypto::{blake2b_256, Address, RollupAddress};
use crate::error::Fault;
use crate::escrow::{Invoice, Mode, Project, ProjectOperation, WorkTicket};
use crate::keys;
use crate::operation::Operation;
use crate::state::{Holder, Pledge, PledgeEnd, PledgeId, Profile, ProjectId, Tier, TierId};
use crate::store::Store;
use crate::units::{format_decimal, format_rfc3339, DAY, HOUR, MINUTE, PERIODS, WEEK};

/// What every statement starts with: wallets show a packed string that
/// starts so as a message to sign.
pub const PREFIX: &str = "Tezos Signed Message: pledgeroll";

/// Longest free text quoted as it is, in bytes; longer text is stated by its
/// length and hash.
pub const MAX_QUOTED: usize = 140;

/// Longest statement, in bytes.
pub const MAX_STATEMENT: usize = 4_096;

/// Why a statement cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StatementError {
    /// The operation names a record that does not exist.
    #[error("{0} does not exist")]
    Unknown(String),
    /// Reading the state failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// An operation stated in words, ready to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement(String);

impl Statement {
    /// The text a wallet shows.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The bytes signed: the text packed as a Michelson string (`0x05 0x01`,
    /// the length as a big-endian `u32`, the text). `octez-client sign bytes`
    /// and Taquito's signers take exactly these bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let text = self.0.as_bytes();
        let mut out = Vec::with_capacity(text.len() + 6);
        out.extend_from_slice(&[0x05, 0x01]);
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(text);
        out
    }

    /// A statement of something other than a rollup operation, made by
    /// [`crate::off_rollup`] under a domain tag of its own.
    pub(crate) fn off_rollup(text: String) -> Self {
        Statement(text)
    }

    /// Reads a statement back from the bytes signed, if they are one: a
    /// packed Michelson string of printable ASCII that starts with
    /// [`PREFIX`]. A wallet signs nothing it cannot show this way.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(&[0x05, 0x01])?;
        let (len, text) = rest.split_first_chunk::<4>()?;
        if usize::try_from(u32::from_be_bytes(*len)).ok()? != text.len() {
            return None;
        }
        let text = core::str::from_utf8(text).ok()?;
        let printable = text.bytes().all(|b| (0x20..0x7f).contains(&b));
        (printable && text.len() <= MAX_STATEMENT && text.starts_with(PREFIX))
            .then(|| Statement(text.to_owned()))
    }

    /// Makes the statement of `op` signed by `signer` at `nonce` on `rollup`,
    /// reading the facts it names from `state`.
    pub fn new<S: Store>(
        state: &S,
        rollup: &RollupAddress,
        signer: &Address,
        nonce: u64,
        op: &Operation,
    ) -> Result<Self, StatementError> {
        let facts = Facts { state };
        let words = facts.operation(signer, op)?;
        Ok(Statement(format!(
            "{PREFIX} {rollup} nonce {nonce} {signer}: {words}"
        )))
    }
}

/// The records a statement names, read from the state.
struct Facts<'a, S: Store> {
    state: &'a S,
}

impl<S: Store> Facts<'_, S> {
    fn read<T: crate::encoding::Decode>(
        &self,
        key: &str,
        what: impl FnOnce() -> String,
    ) -> Result<T, StatementError> {
        context::read(self.state, key)?.ok_or_else(|| StatementError::Unknown(what()))
    }

    fn tier(&self, id: TierId) -> Result<Tier, StatementError> {
        self.read(&keys::tier(id), || format!("tier {}", id.0))
    }

    fn pledge(&self, id: PledgeId) -> Result<Pledge, StatementError> {
        self.read(&keys::pledge(id), || format!("pledge {}", id.0))
    }

    fn project(&self, id: ProjectId) -> Result<Project, StatementError> {
        self.read(&keys::project(id), || format!("project {}", id.0))
    }

    fn ticket(&self, project: ProjectId, n: u32) -> Result<WorkTicket, StatementError> {
        self.read(&keys::project_ticket(project, n), || {
            format!("ticket {n} of project {}", project.0)
        })
    }

    fn invoice(&self, project: ProjectId, n: u32) -> Result<Invoice, StatementError> {
        self.read(&keys::project_invoice(project, n), || {
            format!("invoice {n} of project {}", project.0)
        })
    }

    /// `5 tez`, or `5000000 base units of asset 3` for an asset whose ticket
    /// declares no unit.
    fn amount(&self, asset: AssetId, units: u128) -> Result<String, StatementError> {
        let ticket: Ticket = self.read(&keys::asset(asset), || format!("asset {}", asset.0))?;
        Ok(amount_words(&ticket, asset, units))
    }

    /// `5 tez per month`.
    fn rate(&self, asset: AssetId, amount: u64, period: u32) -> Result<String, StatementError> {
        Ok(format!(
            "{} {}",
            self.amount(asset, u128::from(amount))?,
            period_words(period)
        ))
    }

    /// `project 3 "Better docs"`.
    fn project_named(&self, id: ProjectId) -> Result<String, StatementError> {
        Ok(format!(
            "project {} {}",
            id.0,
            quote(self.project(id)?.title.as_str())
        ))
    }

    /// `tip 5 tez to project 3 "Better docs"`.
    fn holder(&self, h: &Holder) -> Result<String, StatementError> {
        match h {
            Holder::Account(a) => Ok(a.to_string()),
            Holder::Project(p) => self.project_named(*p),
        }
    }

    /// `, until …, at most … in all`, for the options a pledge may carry.
    fn limits(
        &self,
        asset: AssetId,
        end: Option<PledgeEnd>,
        cap: Option<u64>,
    ) -> Result<String, StatementError> {
        let mut out = String::new();
        match end {
            None => {}
            Some(PledgeEnd::At { time }) => out.push_str(&format!(", until {}", instant(time))),
            Some(PledgeEnd::After { seconds }) => {
                out.push_str(&format!(", for {} from its start", exact_duration(seconds)))
            }
        }
        if let Some(cap) = cap {
            out.push_str(&format!(
                ", at most {} in all",
                self.amount(asset, u128::from(cap))?
            ));
        }
        Ok(out)
    }

    /// `pledge 3 (5 tez per month to tz1…)`.
    fn pledge_named(&self, id: PledgeId) -> Result<String, StatementError> {
        let p = self.pledge(id)?;
        Ok(format!(
            "pledge {} ({} to {})",
            id.0,
            self.rate(p.asset, p.amount_per_period, p.period)?,
            self.holder(&p.payee)?
        ))
    }

    fn operation(&self, signer: &Address, op: &Operation) -> Result<String, StatementError> {
        Ok(match op {
            Operation::Pledge {
                tier,
                amount,
                end,
                cap,
            } => {
                let t = self.tier(*tier)?;
                format!(
                    "pledge {} to {} for tier {} {}{}{}",
                    self.rate(t.asset, amount.unwrap_or(t.amount_per_period), t.period)?,
                    t.creator,
                    tier.0,
                    quote(t.title.as_str()),
                    self.above_price(&t, *amount)?,
                    self.limits(t.asset, *end, *cap)?
                )
            }
            Operation::ChangePledge {
                pledge,
                tier,
                amount,
            } => {
                let t = self.tier(*tier)?;
                format!(
                    "move {} to tier {} {} of {}: {}{}",
                    self.pledge_named(*pledge)?,
                    tier.0,
                    quote(t.title.as_str()),
                    t.creator,
                    self.rate(t.asset, amount.unwrap_or(t.amount_per_period), t.period)?,
                    self.above_price(&t, *amount)?
                )
            }
            Operation::PausePledge { pledge } => format!("pause {}", self.pledge_named(*pledge)?),
            Operation::ResumePledge { pledge } => format!("resume {}", self.pledge_named(*pledge)?),
            Operation::CancelPledge { pledge } => format!("cancel {}", self.pledge_named(*pledge)?),
            Operation::Transfer { to, asset, amount } => format!(
                "transfer {} to {to}",
                self.amount(*asset, u128::from(*amount))?
            ),
            Operation::Tip {
                to,
                asset,
                amount,
                memo,
            } => format!(
                "tip {} to {} with the memo {}",
                self.amount(*asset, u128::from(*amount))?,
                self.holder(to)?,
                quote(memo.as_str())
            ),
            Operation::Withdraw {
                asset,
                amount,
                destination,
                entrypoint,
            } => format!(
                "withdraw {} to {destination} entrypoint {}",
                self.amount(*asset, u128::from(*amount))?,
                quote(entrypoint.as_str())
            ),
            Operation::SetProfile { profile } => profile_words(profile),
            Operation::AddTier {
                title,
                perks,
                asset,
                amount_per_period,
                period,
                patron_limit,
            } => format!(
                "add the tier {} at {} with the perks {}, {}",
                quote(title.as_str()),
                self.rate(*asset, *amount_per_period, *period)?,
                quote(perks.as_str()),
                match patron_limit {
                    Some(n) => format!("for at most {n} patrons"),
                    None => "for any number of patrons".to_owned(),
                }
            ),
            Operation::RetireTier { tier } => format!(
                "retire tier {} {}",
                tier.0,
                quote(self.tier(*tier)?.title.as_str())
            ),
            Operation::PauseCreator => format!("pause every pledge to {signer}"),
            Operation::ResumeCreator => format!("resume every pledge to {signer}"),
            Operation::Project { op } => self.project_operation(op)?,
        })
    }

    /// `, above the tier's price of 5 tez` when an amount is stated.
    fn above_price(&self, tier: &Tier, amount: Option<u64>) -> Result<String, StatementError> {
        Ok(match amount {
            None => String::new(),
            Some(_) => format!(
                ", by choice above the tier's price of {}",
                self.amount(tier.asset, u128::from(tier.amount_per_period))?
            ),
        })
    }

    fn project_operation(&self, op: &ProjectOperation) -> Result<String, StatementError> {
        Ok(match op {
            ProjectOperation::Create {
                title,
                description,
                link,
                commissioners,
                threshold,
                mode,
                time_lock,
                refund_deadline,
            } => {
                let names: Vec<String> = commissioners
                    .items()
                    .iter()
                    .map(|a| a.to_string())
                    .collect();
                let (mode, wait) = match mode {
                    Mode::Public => ("public".to_owned(), "time-lock"),
                    Mode::Private { patron } => {
                        (format!("private for patron {patron}"), "veto window")
                    }
                };
                format!(
                    "create the {mode} project {} with the description {}{}, commissioners {}, \
                     {threshold} of them to pay an invoice, {}, refunds open after {}",
                    quote(title.as_str()),
                    quote(description.as_str()),
                    link.as_ref()
                        .map(|l| format!(", link {}", quote(l.as_str())))
                        .unwrap_or_default(),
                    names.join(" "),
                    match time_lock {
                        Some(t) => format!("a {wait} of {}", exact_duration(*t)),
                        None => format!("the default {wait}"),
                    },
                    instant(*refund_deadline)
                )
            }
            ProjectOperation::Fund {
                project,
                asset,
                amount,
            } => format!(
                "fund {} with {}",
                self.project_named(*project)?,
                self.amount(*asset, u128::from(*amount))?
            ),
            ProjectOperation::Pledge {
                project,
                asset,
                amount_per_period,
                period,
                end,
                cap,
            } => format!(
                "pledge {} to {}{}",
                self.rate(*asset, *amount_per_period, *period)?,
                self.project_named(*project)?,
                self.limits(*asset, *end, *cap)?
            ),
            ProjectOperation::OpenTicket {
                project,
                title,
                url,
                budget,
            } => {
                let mut out = format!(
                    "open the ticket {} in {}",
                    quote(title.as_str()),
                    self.project_named(*project)?
                );
                if let Some(url) = url {
                    out.push_str(&format!(", issue {}", quote(url.as_str())));
                }
                if let Some(b) = budget {
                    out.push_str(&format!(
                        ", budget {}",
                        self.amount(b.asset, u128::from(b.amount))?
                    ));
                }
                out
            }
            ProjectOperation::CloseTicket { project, ticket } => format!(
                "close ticket {ticket} {} of {}",
                quote(self.ticket(*project, *ticket)?.title.as_str()),
                self.project_named(*project)?
            ),
            ProjectOperation::RaiseInvoice {
                project,
                ticket,
                beneficiary,
                asset,
                amount,
            } => format!(
                "raise an invoice on ticket {ticket} {} of {}: pay {} to {beneficiary}",
                quote(self.ticket(*project, *ticket)?.title.as_str()),
                self.project_named(*project)?,
                self.amount(*asset, u128::from(*amount))?
            ),
            ProjectOperation::Approve { project, invoice } => {
                format!("approve {}", self.invoice_named(*project, *invoice)?)
            }
            ProjectOperation::Veto { project, invoice } => {
                format!("veto {}", self.invoice_named(*project, *invoice)?)
            }
            ProjectOperation::WithdrawInvoice { project, invoice } => {
                format!("withdraw {}", self.invoice_named(*project, *invoice)?)
            }
            ProjectOperation::ApproveRefund { project } => {
                format!(
                    "approve refunding the funders of {}",
                    self.project_named(*project)?
                )
            }
            ProjectOperation::Reclaim { project } => {
                format!("reclaim my share of {}", self.project_named(*project)?)
            }
        })
    }

    /// `invoice 4 of project 3 "Better docs" (5 tez to tz1…)`.
    fn invoice_named(&self, project: ProjectId, n: u32) -> Result<String, StatementError> {
        let i = self.invoice(project, n)?;
        Ok(format!(
            "invoice {n} of {} ({} to {})",
            self.project_named(project)?,
            self.amount(i.asset, u128::from(i.amount))?,
            i.beneficiary
        ))
    }
}

fn profile_words(p: &Profile) -> String {
    let links: Vec<String> = p.links.items().iter().map(|l| quote(l.as_str())).collect();
    format!(
        "set my creator profile: name {}, description {}, {}",
        quote(p.name.as_str()),
        quote(p.description.as_str()),
        if links.is_empty() {
            "no links".to_owned()
        } else {
            format!("links {}", links.join(" "))
        }
    )
}

/// `units` base units of `asset`, whose ticket is `ticket`, in words: `5.25
/// tez` in the ticket's declared unit, or `5250000 base units of asset 3`.
/// Statements and receipts state amounts so.
pub fn amount_words(ticket: &Ticket, asset: AssetId, units: u128) -> String {
    match ticket.declared_unit() {
        Some((symbol, decimals)) => format!("{} {symbol}", format_decimal(units, decimals)),
        None => format!("{units} base units of asset {}", asset.0),
    }
}

/// Free text, quoted and escaped to printable ASCII, or stated by its length
/// and hash when longer than [`MAX_QUOTED`] bytes.
pub fn quote(s: &str) -> String {
    if s.len() > MAX_QUOTED {
        let hash: String = blake2b_256(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        return format!("of {} bytes with blake2b-256 {hash}", s.len());
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            ' '..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// `per month` for a named period, `every 90061 seconds` otherwise.
fn period_words(period: u32) -> String {
    let seconds = u64::from(period);
    PERIODS
        .iter()
        .find(|(_, size)| *size == seconds)
        .map_or_else(
            || format!("every {}", exact_duration(seconds)),
            |(name, _)| format!("per {name}"),
        )
}

/// A duration exactly, in the largest unit that divides it: `3 days`,
/// `90 minutes`, `90061 seconds`.
fn exact_duration(seconds: u64) -> String {
    let (size, unit) = [
        (WEEK, "week"),
        (DAY, "day"),
        (HOUR, "hour"),
        (MINUTE, "minute"),
    ]
    .into_iter()
    .find(|(size, _)| seconds > 0 && seconds % size == 0)
    .unwrap_or((1, "second"));
    let n = seconds / size;
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// An instant in RFC 3339 UTC to the second, or seconds after 1970 beyond
/// what that form holds.
fn instant(t: u64) -> String {
    i64::try_from(t).map_or_else(|_| format!("{t} seconds after 1970"), format_rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_quoted_in_printable_ascii() {
        assert_eq!(quote("Ada"), "\"Ada\"");
        assert_eq!(quote("a \"b\" \\ c\nd"), "\"a \\\"b\\\" \\\\ c\\nd\"");
        assert_eq!(quote("東京 é"), "\"\\u{6771}\\u{4eac} \\u{00e9}\"");
        assert_eq!(quote("\u{1f600}"), "\"\\u{1f600}\"");
        // A text written with a backslash-u escape reads differently from
        // the character it spells.
        assert_ne!(quote("\\u{00e9}"), quote("é"));
    }

    #[test]
    fn long_text_is_stated_by_length_and_hash() {
        let long = "x".repeat(MAX_QUOTED + 1);
        let q = quote(&long);
        assert!(q.starts_with("of 141 bytes with blake2b-256 "), "{q}");
        assert_eq!(q.len(), "of 141 bytes with blake2b-256 ".len() + 64);
        assert_ne!(q, quote(&"y".repeat(MAX_QUOTED + 1)));
        assert_eq!(quote(&"x".repeat(MAX_QUOTED)).len(), MAX_QUOTED + 2);
    }

    #[test]
    fn periods_and_durations_are_exact() {
        assert_eq!(period_words(2_592_000), "per month");
        assert_eq!(period_words(3_600), "per hour");
        assert_eq!(period_words(90_061), "every 90061 seconds");
        assert_eq!(period_words(5_400), "every 90 minutes");
        assert_eq!(exact_duration(259_200), "3 days");
        assert_eq!(exact_duration(1_209_600), "2 weeks");
        assert_eq!(exact_duration(60), "1 minute");
        assert_eq!(exact_duration(0), "0 seconds");
    }

    #[test]
    fn the_packed_form_is_a_michelson_string_and_reads_back() {
        let s = Statement("ab".to_owned());
        assert_eq!(s.bytes(), vec![5, 1, 0, 0, 0, 2, b'a', b'b']);
        let s = Statement(format!("{PREFIX} x"));
        assert_eq!(Statement::from_bytes(&s.bytes()), Some(s.clone()));
        let mut longer = s.bytes();
        longer.push(b'y');
        assert_eq!(Statement::from_bytes(&longer), None);
        // Packed bytes, other words, control characters: not a statement.
        let mut as_bytes = s.bytes();
        as_bytes[1] = 0x0a;
        assert_eq!(Statement::from_bytes(&as_bytes), None);
        assert_eq!(
            Statement::from_bytes(&Statement("ab".to_owned()).bytes()),
            None
        );
        let nl = Statement(format!("{PREFIX}\n"));
        assert_eq!(Statement::from_bytes(&nl.bytes()), None);
        assert_eq!(Statement::from_bytes(&[5, 1, 0]), None);
    }
}
