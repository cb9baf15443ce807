//! Arbitrary inbox levels through the kernel, on `MockHost`, the way the
//! kernel's property test drives it (`kernel/tests/properties.rs`): ticket
//! deposits in several assets, batches of operations signed by a few test
//! accounts (one per curve, and a creator), operations spoiled after
//! signing, and garbage: any bytes, mutated batches and deposits, transfers
//! of any parameter. Text fields carry control, bidi and other characters
//! the text rules refuse.
//!
//! After every level: no panic; the level did not abort (only a storage
//! failure may abort one); in every asset the balances of every holder ever
//! named by a `FlowChanged` event, read with `Protocol::balance_fine`, sum
//! to what was deposited less what was withdrawn; every applied operation is
//! one a test account signed, and its text passes the text rules; and the
//! record's state hash is the protocol's.

#![no_main]

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Budget, Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::{PledgeEnd, Profile};
use pledgeroll_contracts::statement::Statement;
use pledgeroll_contracts::text;
use pledgeroll_contracts::{
    Address, AssetId, Contract, Decode, Event, Holder, Operation, PledgeId, ProjectId, PublicKey,
    Signature, SignedOperation, Signer, TierId, FINE_PER_UNIT,
};
use pledgeroll_fuzz::harness::{self, Harness, Parameter, Raw};
use tezos_data_encoding::enc::BinWriter;
use tezos_smart_rollup_encoding::michelson::{MichelsonContract, MichelsonPair};

/// Most levels one input runs, quiet ones aside.
const MAX_LEVELS: usize = 8;
/// Most inbox messages in one level.
const MAX_MESSAGES: usize = 12;
/// Most operations in one batch.
const MAX_BATCH: usize = 6;
/// The creator (bootstrap1), last of the accounts.
const CREATOR: Who = Who(4);

/// A signing account, its key's public half and address worked out once:
/// deriving them takes longer than the rest of a level.
struct Account {
    key: SecretKey,
    public_key: PublicKey,
    address: Address,
}

/// The accounts that sign: patrons (two on ed25519, one on secp256k1, one
/// on P-256), then a creator (Octez's bootstrap1). The starting state signs
/// with ed25519 keys only, the fastest to sign and check.
fn accounts() -> &'static [Account] {
    static ACCOUNTS: OnceLock<Vec<Account>> = OnceLock::new();
    ACCOUNTS.get_or_init(|| {
        let other = |curve, byte| {
            SecretKey::from_bytes(curve, [byte; 32]).expect("a small scalar is a key")
        };
        [
            harness::key(100),
            harness::key(101),
            other(Curve::Secp256k1, 102),
            other(Curve::P256, 103),
            harness::bootstrap1(),
        ]
        .into_iter()
        .map(|key| {
            let public_key = key.public_key();
            let address = public_key.address();
            Account {
                key,
                public_key,
                address,
            }
        })
        .collect()
    })
}

/// One of the signing accounts.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Who(u8);

impl Who {
    fn account(self) -> &'static Account {
        let accounts = accounts();
        accounts
            .get(usize::from(self.0) % accounts.len())
            .expect("an index modulo the length is within it")
    }

    fn address(self) -> Address {
        self.account().address
    }
}

/// An amount of base units, mostly small.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Amount {
    Small(u8),
    Medium(u16),
    Any(u64),
}

impl Amount {
    fn units(self) -> u64 {
        match self {
            Amount::Small(n) => u64::from(n),
            Amount::Medium(n) => u64::from(n),
            Amount::Any(n) => n,
        }
    }
}

/// A period, mostly a common one.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Period {
    Minute,
    Day,
    Month,
    Any(u32),
}

impl Period {
    fn seconds(self) -> u32 {
        match self {
            Period::Minute => 60,
            Period::Day => 86_400,
            Period::Month => 2_592_000,
            Period::Any(s) => s,
        }
    }
}

/// When a pledge ends: seconds from now, or from its start.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum End {
    In(u32),
    After(u32),
}

impl End {
    fn pledge_end(self, now: u64) -> PledgeEnd {
        match self {
            End::In(s) => PledgeEnd::At {
                time: now.saturating_add(u64::from(s)),
            },
            End::After(s) => PledgeEnd::After {
                seconds: u64::from(s),
            },
        }
    }
}

/// A character of free text, weighted towards the ones the rules refuse.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum TextChar {
    Letter(u8),
    /// C0 and C1 controls, DEL and Latin-1.
    Control(u8),
    Tricky(u8),
    Any(char),
}

/// Bidi controls, invisible and non-characters, line breaks, combining
/// marks, quotes and escapes.
const TRICKY: &[char] = &[
    '\n',
    '\r',
    '\t',
    '\u{202e}',
    '\u{202a}',
    '\u{2066}',
    '\u{2069}',
    '\u{200f}',
    '\u{200b}',
    '\u{feff}',
    '\u{fffe}',
    '\u{1f600}',
    '東',
    'é',
    '\u{301}',
    '"',
    '\\',
    ' ',
    '/',
    ':',
];

impl TextChar {
    fn char(self) -> char {
        match self {
            TextChar::Letter(n) => char::from(b'a' + n % 26),
            TextChar::Control(n) => char::from(n % 0xa0),
            TextChar::Tricky(n) => TRICKY
                .get(usize::from(n) % TRICKY.len())
                .copied()
                .unwrap_or('?'),
            TextChar::Any(c) => c,
        }
    }
}

/// Free text: plain words the rules accept, so operations apply, or any
/// characters; either now and then shaped like a URL, so links go both
/// ways.
#[derive(Arbitrary, Debug, Clone)]
enum FuzzText {
    Plain { url: bool, letters: Vec<u8> },
    Mixed { url: bool, chars: Vec<TextChar> },
}

impl FuzzText {
    /// The text cut to at most `N` bytes on a character boundary.
    fn fit<const N: usize>(&self) -> Text<N> {
        let (url, mut s): (bool, String) = match self {
            FuzzText::Plain { url, letters } => (
                *url,
                letters.iter().map(|n| char::from(b'a' + n % 26)).collect(),
            ),
            FuzzText::Mixed { url, chars } => (*url, chars.iter().map(|c| c.char()).collect()),
        };
        if url {
            s = format!("https://{s}");
        }
        let mut end = s.len().min(N);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        Text::new(s).unwrap_or_default()
    }
}

/// A tip's receiver.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Payee {
    Account(Who),
    Project(u8),
}

/// Where a withdrawal goes.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Destination {
    /// The test asset's ticketer (its exchanger).
    Ticketer,
    /// An account, paid through the ticket's ticketer.
    Account(Who),
    /// Any originated contract.
    Contract([u8; 20]),
}

/// A withdrawal's entrypoint.
#[derive(Arbitrary, Debug, Clone)]
enum Entrypoint {
    Burn,
    Default,
    Any(FuzzText),
}

/// A project escrow's operations.
#[derive(Arbitrary, Debug, Clone)]
enum ProjectOp {
    Create {
        title: FuzzText,
        description: FuzzText,
        link: Option<FuzzText>,
        commissioners: Vec<Who>,
        threshold: u8,
        patron: Option<Who>,
        time_lock: Option<u32>,
        deadline_in: u32,
    },
    Fund {
        project: u8,
        asset: u8,
        amount: Amount,
    },
    Pledge {
        project: u8,
        asset: u8,
        amount_per_period: Amount,
        period: Period,
        end: Option<End>,
        cap: Option<Amount>,
    },
    OpenTicket {
        project: u8,
        title: FuzzText,
        url: Option<FuzzText>,
        budget: Option<(u8, Amount)>,
    },
    CloseTicket {
        project: u8,
        ticket: u8,
    },
    RaiseInvoice {
        project: u8,
        ticket: u8,
        beneficiary: Who,
        asset: u8,
        amount: Amount,
    },
    Approve {
        project: u8,
        invoice: u8,
    },
    Veto {
        project: u8,
        invoice: u8,
    },
    WithdrawInvoice {
        project: u8,
        invoice: u8,
    },
    ApproveRefund {
        project: u8,
    },
    Reclaim {
        project: u8,
    },
}

/// An operation, its ids mostly among the few records that exist.
#[derive(Arbitrary, Debug, Clone)]
enum Op {
    Transfer {
        to: Who,
        asset: u8,
        amount: Amount,
    },
    Tip {
        to: Payee,
        asset: u8,
        amount: Amount,
        memo: FuzzText,
    },
    SetProfile {
        name: FuzzText,
        description: FuzzText,
        links: Vec<FuzzText>,
    },
    AddTier {
        title: FuzzText,
        perks: FuzzText,
        asset: u8,
        amount_per_period: Amount,
        period: Period,
        patron_limit: Option<u8>,
    },
    RetireTier {
        tier: u8,
    },
    Pledge {
        tier: u8,
        amount: Option<Amount>,
        end: Option<End>,
        cap: Option<Amount>,
    },
    ChangePledge {
        pledge: u8,
        tier: u8,
        amount: Option<Amount>,
    },
    PausePledge {
        pledge: u8,
    },
    ResumePledge {
        pledge: u8,
    },
    CancelPledge {
        pledge: u8,
    },
    Withdraw {
        asset: u8,
        amount: Amount,
        destination: Destination,
        entrypoint: Entrypoint,
    },
    PauseCreator,
    ResumeCreator,
    Project(ProjectOp),
    /// Any operation, read from its encoding.
    Encoded(Vec<u8>),
}

/// Asset 0 (the one the starting state holds) five times in eight, else
/// asset 1, 2 or 3.
fn asset(n: u8) -> AssetId {
    AssetId(u32::from(n % 8).saturating_sub(4))
}

/// One of the first tiers; the starting state has two.
fn tier(n: u8) -> TierId {
    TierId(u64::from(n % 4))
}

/// One of the first pledges; the starting state has two.
fn pledge(n: u8) -> PledgeId {
    PledgeId(u64::from(n % 6))
}

/// One of the first projects.
fn project(n: u8) -> ProjectId {
    ProjectId(u64::from(n % 2))
}

impl ProjectOp {
    fn operation(&self, now: u64) -> ProjectOperation {
        match self.clone() {
            ProjectOp::Create {
                title,
                description,
                link,
                commissioners,
                threshold,
                patron,
                time_lock,
                deadline_in,
            } => ProjectOperation::Create {
                title: title.fit(),
                description: description.fit(),
                link: link.map(|l| l.fit()),
                commissioners: List::new(
                    commissioners.iter().take(4).map(|w| w.address()).collect(),
                )
                .unwrap_or_default(),
                threshold,
                mode: patron.map_or(Mode::Public, |p| Mode::Private {
                    patron: p.address(),
                }),
                time_lock: time_lock.map(u64::from),
                refund_deadline: now.saturating_add(u64::from(deadline_in)),
            },
            ProjectOp::Fund {
                project: p,
                asset: a,
                amount,
            } => ProjectOperation::Fund {
                project: project(p),
                asset: asset(a),
                amount: amount.units(),
            },
            ProjectOp::Pledge {
                project: p,
                asset: a,
                amount_per_period,
                period,
                end,
                cap,
            } => ProjectOperation::Pledge {
                project: project(p),
                asset: asset(a),
                amount_per_period: amount_per_period.units(),
                period: period.seconds(),
                end: end.map(|e| e.pledge_end(now)),
                cap: cap.map(Amount::units),
            },
            ProjectOp::OpenTicket {
                project: p,
                title,
                url,
                budget,
            } => ProjectOperation::OpenTicket {
                project: project(p),
                title: title.fit(),
                url: url.map(|u| u.fit()),
                budget: budget.map(|(a, amount)| Budget {
                    asset: asset(a),
                    amount: amount.units(),
                }),
            },
            ProjectOp::CloseTicket { project: p, ticket } => ProjectOperation::CloseTicket {
                project: project(p),
                ticket: u32::from(ticket % 4),
            },
            ProjectOp::RaiseInvoice {
                project: p,
                ticket,
                beneficiary,
                asset: a,
                amount,
            } => ProjectOperation::RaiseInvoice {
                project: project(p),
                ticket: u32::from(ticket % 4),
                beneficiary: beneficiary.address(),
                asset: asset(a),
                amount: amount.units(),
            },
            ProjectOp::Approve {
                project: p,
                invoice,
            } => ProjectOperation::Approve {
                project: project(p),
                invoice: u32::from(invoice % 4),
            },
            ProjectOp::Veto {
                project: p,
                invoice,
            } => ProjectOperation::Veto {
                project: project(p),
                invoice: u32::from(invoice % 4),
            },
            ProjectOp::WithdrawInvoice {
                project: p,
                invoice,
            } => ProjectOperation::WithdrawInvoice {
                project: project(p),
                invoice: u32::from(invoice % 4),
            },
            ProjectOp::ApproveRefund { project: p } => ProjectOperation::ApproveRefund {
                project: project(p),
            },
            ProjectOp::Reclaim { project: p } => ProjectOperation::Reclaim {
                project: project(p),
            },
        }
    }
}

impl Op {
    /// The operation, or `None` for bytes that encode none.
    fn operation(&self, now: u64) -> Option<Operation> {
        Some(match self.clone() {
            Op::Transfer {
                to,
                asset: a,
                amount,
            } => Operation::Transfer {
                to: to.address(),
                asset: asset(a),
                amount: amount.units(),
            },
            Op::Tip {
                to,
                asset: a,
                amount,
                memo,
            } => Operation::Tip {
                to: match to {
                    Payee::Account(who) => Holder::Account(who.address()),
                    Payee::Project(p) => Holder::Project(project(p)),
                },
                asset: asset(a),
                amount: amount.units(),
                memo: memo.fit(),
            },
            Op::SetProfile {
                name,
                description,
                links,
            } => Operation::SetProfile {
                profile: Profile {
                    name: name.fit(),
                    description: description.fit(),
                    links: List::new(links.iter().take(8).map(FuzzText::fit).collect())
                        .unwrap_or_default(),
                },
            },
            Op::AddTier {
                title,
                perks,
                asset: a,
                amount_per_period,
                period,
                patron_limit,
            } => Operation::AddTier {
                title: title.fit(),
                perks: perks.fit(),
                asset: asset(a),
                amount_per_period: amount_per_period.units(),
                period: period.seconds(),
                patron_limit: patron_limit.map(u32::from),
            },
            Op::RetireTier { tier: t } => Operation::RetireTier { tier: tier(t) },
            Op::Pledge {
                tier: t,
                amount,
                end,
                cap,
            } => Operation::Pledge {
                tier: tier(t),
                amount: amount.map(Amount::units),
                end: end.map(|e| e.pledge_end(now)),
                cap: cap.map(Amount::units),
            },
            Op::ChangePledge {
                pledge: p,
                tier: t,
                amount,
            } => Operation::ChangePledge {
                pledge: pledge(p),
                tier: tier(t),
                amount: amount.map(Amount::units),
            },
            Op::PausePledge { pledge: p } => Operation::PausePledge { pledge: pledge(p) },
            Op::ResumePledge { pledge: p } => Operation::ResumePledge { pledge: pledge(p) },
            Op::CancelPledge { pledge: p } => Operation::CancelPledge { pledge: pledge(p) },
            Op::Withdraw {
                asset: a,
                amount,
                destination,
                entrypoint,
            } => Operation::Withdraw {
                asset: asset(a),
                amount: amount.units(),
                destination: match destination {
                    Destination::Ticketer => harness::ticketer(),
                    Destination::Account(who) => Contract::Implicit(who.address()),
                    Destination::Contract(hash) => Contract::Originated(hash),
                },
                entrypoint: match entrypoint {
                    Entrypoint::Burn => Text::new("burn").unwrap_or_default(),
                    Entrypoint::Default => Text::new("default").unwrap_or_default(),
                    Entrypoint::Any(text) => text.fit(),
                },
            },
            Op::PauseCreator => Operation::PauseCreator,
            Op::ResumeCreator => Operation::ResumeCreator,
            Op::Project(op) => Operation::Project {
                op: op.operation(now),
            },
            Op::Encoded(bytes) => Operation::from_bytes(&bytes).ok()?,
        })
    }
}

/// An operation as a test account signs it; one in sixteen is spoiled
/// after signing (`spoil` below 16).
#[derive(Arbitrary, Debug, Clone)]
struct SignedOp {
    who: Who,
    op: Op,
    spoil: u8,
    /// The signature's bit to flip, modulo 512.
    bit: u16,
}

/// How a signed operation is spoiled after signing.
#[derive(Debug, Clone, Copy)]
enum Spoil {
    /// This bit of the signature flipped.
    Signature(u16),
    /// Signed as an account number the rollup never gave.
    UnknownSigner,
}

impl SignedOp {
    fn spoil(&self) -> Option<Spoil> {
        match self.spoil {
            0..=14 => Some(Spoil::Signature(self.bit % 512)),
            15 => Some(Spoil::UnknownSigner),
            _ => None,
        }
    }
}

/// The ticket kind deposited.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Token {
    /// The test asset (token 0, asset 0).
    Test,
    /// Another token of the same ticketer.
    Other(u8),
    /// A token that declares its unit.
    Declared,
}

#[derive(Arbitrary, Debug, Clone)]
enum Message {
    /// A deposit of at least one unit.
    Deposit { to: Who, token: Token, amount: u16 },
    /// A batch of operations signed by the test accounts.
    Batch(Vec<SignedOp>),
    /// A message the kernel should refuse or ignore.
    Garbage(Garbage),
}

#[derive(Arbitrary, Debug, Clone)]
enum Garbage {
    /// Any payload in a frame targeted at this rollup.
    Targeted(Vec<u8>),
    /// Any bytes after the external-message tag.
    External(Vec<u8>),
    /// A ticket transfer to this rollup whose parameter is any bytes.
    Transfer(Vec<u8>),
    /// A valid batch frame with some bytes changed and maybe cut short.
    MutatedBatch {
        edits: Vec<(u16, u8)>,
        cut: Option<u16>,
    },
    /// A valid deposit parameter with some bytes changed and maybe cut short.
    MutatedDeposit {
        edits: Vec<(u16, u8)>,
        cut: Option<u16>,
    },
}

#[derive(Arbitrary, Debug)]
struct Level {
    messages: Vec<Message>,
    /// Empty levels after this one (modulo 4), so streams run on.
    quiet: u8,
}

/// `bytes` with `edits` applied (each XORs a byte) and maybe cut short.
fn mutate(mut bytes: Vec<u8>, edits: &[(u16, u8)], cut: Option<u16>) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    let len = bytes.len();
    for (at, x) in edits {
        if let Some(b) = bytes.get_mut(usize::from(*at) % len) {
            *b ^= x;
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(usize::from(cut) % len);
    }
    bytes
}

/// The rollup under test, and what the checks need to know about it.
struct World {
    h: Harness,
    /// Every (holder, asset) whose flow ever changed.
    holders: BTreeSet<(Holder, AssetId)>,
    /// The operations signed by the test accounts since the last level,
    /// by the id their receipt carries.
    signed: HashMap<[u8; 32], Operation>,
    /// Operations each account signed since the last level.
    pending: HashMap<Address, u64>,
    /// Operations whose signature was spoiled since the last level.
    spoiled: Vec<SignedOperation>,
}

impl World {
    /// A rollup where patrons hold funds and two of them pledge to a
    /// creator with two tiers, as in the property test.
    fn new() -> Self {
        let mut w = World {
            h: Harness::new(),
            holders: BTreeSet::new(),
            signed: HashMap::new(),
            pending: HashMap::new(),
            spoiled: Vec::new(),
        };
        for (who, amount) in [(0u8, 1_000u64), (1, 60), (2, 5)] {
            w.h.deposit(&Who(who).address(), amount);
        }
        w.level();
        // Tiers name the asset, which the statement reads: the deposits
        // come a level before.
        w.send(vec![
            (CREATOR, harness::profile("Ada")),
            (CREATOR, harness::tier(2_592_000, 2_592_000)),
            (CREATOR, harness::tier(259_200, 86_400)),
        ]);
        w.level();
        w.send(vec![
            (Who(0), harness::pledge(0)),
            (Who(1), harness::pledge(0)),
        ]);
        w.level();
        w
    }

    /// Signs `ops` and queues them as one batch.
    fn send(&mut self, ops: Vec<(Who, Operation)>) {
        let signed: Vec<SignedOperation> = ops
            .into_iter()
            .map(|(who, op)| self.sign(who, op))
            .collect();
        self.h.submit(&signed);
    }

    /// Signs `op` as `who`'s account would send it next, as
    /// `Harness::sign` does but with the account's key worked out once: by
    /// key until a level revealed it, by number after. An operation naming
    /// a record that does not exist (yet) has no statement; it goes with a
    /// signature over nothing, for the kernel to refuse.
    fn sign(&mut self, who: Who, op: Operation) -> SignedOperation {
        let account = who.account();
        let rollup = self.h.rollup();
        let pending = self.pending.get(&account.address).copied().unwrap_or(0);
        let p = self.h.protocol();
        let known = p.account(&account.address).expect("an account reads");
        let nonce = known.next_nonce.saturating_add(pending);
        let statement = Statement::new(p.store(), &rollup, &account.address, nonce, &op);
        let signer = known
            .index
            .map_or_else(|| Signer::Key(account.public_key.clone()), Signer::Index);
        let Ok(statement) = statement else {
            return SignedOperation {
                signer,
                operation: op,
                signature: Signature([0; 64]),
            };
        };
        self.pending
            .insert(account.address, pending.saturating_add(1));
        let signed = account.key.sign_operation(&statement, op.clone(), signer);
        self.signed.insert(signed.hash(&account.address, nonce), op);
        signed
    }

    fn now(&mut self) -> u64 {
        self.h
            .protocol()
            .clock()
            .expect("the protocol's clock reads")
            .now
    }

    /// A valid batch frame, signed with a nonce far ahead of the account's
    /// so that no mutation of it can take an account's next nonce.
    fn batch_frame(&mut self) -> Vec<u8> {
        let rollup = self.h.rollup();
        let from = Who(0).address();
        let transfer = harness::transfer(&Who(1).address(), 3);
        let p = self.h.protocol();
        let Ok(statement) = Statement::new(p.store(), &rollup, &from, 1_000_000, &transfer) else {
            return Vec::new();
        };
        let account = Who(0).account();
        let op = account.key.sign_operation(
            &statement,
            transfer,
            Signer::Key(account.public_key.clone()),
        );
        let mut frame = vec![0];
        frame.extend_from_slice(&rollup.0);
        frame.extend(Harness::batch_bytes(&[op]));
        frame
    }

    fn deposit_parameter() -> Vec<u8> {
        let mut out = Vec::new();
        let parameter: Parameter = MichelsonPair(
            MichelsonContract(harness::l1(&Who(2).address())),
            harness::ticket(40),
        );
        parameter.bin_write(&mut out).map_or(Vec::new(), |()| out)
    }

    /// Signs a fuzzed operation, then spoils it if asked.
    fn sign_fuzzed(&mut self, signed: &SignedOp, now: u64) -> Option<SignedOperation> {
        let operation = signed.op.operation(now)?;
        let mut op = self.sign(signed.who, operation);
        match signed.spoil() {
            None => {}
            Some(Spoil::Signature(bit)) => {
                if let Some(b) = op.signature.0.get_mut(usize::from(bit / 8)) {
                    *b ^= 1 << (bit % 8);
                }
                self.spoiled.push(op.clone());
            }
            Some(Spoil::UnknownSigner) => op.signer = Signer::Index(u64::MAX),
        }
        Some(op)
    }

    fn feed(&mut self, message: &Message) {
        match message {
            Message::Deposit { to, token, amount } => {
                let ticket = match token {
                    Token::Test => harness::ticket(u64::from(*amount).max(1)),
                    Token::Other(n) => {
                        harness::ticket_of(u64::from(n % 3) + 1, None, u64::from(*amount).max(1))
                    }
                    Token::Declared => {
                        harness::ticket_of(9, Some(b"tez:6".to_vec()), u64::from(*amount).max(1))
                    }
                };
                self.h.transfer_in(MichelsonPair(
                    MichelsonContract(harness::l1(&to.address())),
                    ticket,
                ));
            }
            Message::Batch(ops) => {
                let now = self.now();
                let ops: Vec<SignedOperation> = ops
                    .iter()
                    .take(MAX_BATCH)
                    .filter_map(|op| self.sign_fuzzed(op, now))
                    .collect();
                self.h.submit(&ops);
            }
            Message::Garbage(garbage) => self.feed_garbage(garbage),
        }
    }

    fn feed_garbage(&mut self, garbage: &Garbage) {
        match garbage {
            Garbage::Targeted(bytes) => self.h.submit_bytes(bytes),
            Garbage::External(bytes) => self.h.external(bytes.clone()),
            Garbage::Transfer(bytes) => self.h.transfer_in(Raw(bytes.clone())),
            Garbage::MutatedBatch { edits, cut } => {
                let frame = mutate(self.batch_frame(), edits, *cut);
                self.h.external(frame);
            }
            Garbage::MutatedDeposit { edits, cut } => {
                let parameter = mutate(Self::deposit_parameter(), edits, *cut);
                self.h.transfer_in(Raw(parameter));
            }
        }
    }

    /// Runs a level and checks it.
    fn level(&mut self) {
        let (level, record) = self.h.run();
        assert_eq!(record.number, level);
        assert_eq!(record.fault, None, "level {level} aborted");
        for event in &record.events {
            if let Event::FlowChanged { holder, asset, .. } = event {
                self.holders.insert((*holder, *asset));
            }
        }
        for receipt in record.receipts.iter().filter(|r| r.outcome.is_applied()) {
            let Some(op) = self.signed.get(&receipt.hash) else {
                let spoiled = self
                    .spoiled
                    .iter()
                    .find(|op| op.hash(&receipt.signer, receipt.nonce) == receipt.hash);
                match spoiled {
                    Some(op) => panic!("a signature with a bit flipped verified: {op:?}"),
                    None => panic!("an operation no test account signed applied: {receipt:?}"),
                }
            };
            if let Err(refusal) = text::check_operation(op) {
                panic!("an operation with refused text applied ({refusal}): {op:?}");
            }
        }
        self.signed.clear();
        self.pending.clear();
        self.spoiled.clear();

        let p = self.h.protocol();
        let assets = p.counters().expect("the counters read").asset;
        for asset in (0..assets).map(AssetId) {
            let supply = p.supply(asset).expect("the supply reads");
            let held = self
                .holders
                .iter()
                .filter(|(_, a)| *a == asset)
                .try_fold(0u128, |sum, (holder, _)| {
                    let balance = p.balance_fine(holder, asset).expect("a balance reads");
                    sum.checked_add(balance)
                })
                .expect("the balances' sum fits in 128 bits");
            let expected = supply
                .deposited
                .checked_sub(supply.withdrawn)
                .and_then(|units| units.checked_mul(FINE_PER_UNIT))
                .expect("withdrawn is at most deposited");
            assert_eq!(
                held, expected,
                "asset {asset} after level {level}: balances sum to {held} fine units, \
                 deposited {} and withdrawn {} units",
                supply.deposited, supply.withdrawn,
            );
        }
        assert_eq!(
            record.state_hash,
            p.state_hash().expect("the state hash reads")
        );
    }
}

fuzz_target!(|levels: Vec<Level>| {
    let mut w = World::new();
    for level in levels.iter().take(MAX_LEVELS) {
        for message in level.messages.iter().take(MAX_MESSAGES) {
            w.feed(message);
        }
        w.level();
        for _ in 0..level.quiet % 4 {
            w.level();
        }
    }
});
