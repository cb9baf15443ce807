//! A synthetic chain of real protocol levels: the protocol over a memory
//! store, driven by seeded random operations from a set of funded accounts
//! (creators, tiers, pledges of every kind, tips, transfers, withdrawals,
//! projects with tickets, invoices, approvals, vetoes and refunds), with
//! time jumps that make patrons run dry and time-locks pass. Forks share a
//! prefix and diverge, as a reorganisation does.

use std::collections::HashMap;

use pledgeroll_contracts::asset::Ticket;
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::{PledgeEnd, Profile};
use pledgeroll_contracts::statement::StatementError;
use pledgeroll_contracts::{
    Address, AssetId, Event, Holder, MemoryStore, Operation, Outcome, PledgeId, ProjectId,
    Protocol, Receipt, RollupAddress, SignedOperation, Signer, TierId,
};
use pledgeroll_indexer::LevelData;
use pledgeroll_interface::LevelRecord;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const ROLLUP: RollupAddress = RollupAddress([0x5a; 20]);
pub const START: i64 = 1_700_000_000;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

pub fn ticket(n: u8) -> Ticket {
    Ticket {
        ticketer: Contract::Originated([0x10 + n; 20]),
        token_id: u64::from(n),
        metadata: (n % 2 == 1).then(|| vec![n; 3]),
    }
}

/// How much of each kind of work a chain does.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Accounts acting.
    pub accounts: usize,
    /// Operations per level.
    pub ops_per_level: usize,
    /// Chance that a level jumps days ahead instead of minutes.
    pub jump: f64,
    /// How many of the accounts (the first ones) act as creators.
    pub creators: usize,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            accounts: 8,
            ops_per_level: 12,
            jump: 0.15,
            creators: 4,
        }
    }
}

/// Ends a level of `p`: the record the kernel writes for it, as the mirror
/// reads it, and the store to go on from.
fn close_level(
    p: Protocol<MemoryStore>,
    level: u32,
    hash: String,
    predecessor: String,
    events: Vec<Event>,
    receipts: Vec<Receipt>,
) -> (MemoryStore, LevelData) {
    let state_hash = p.state_hash().expect("hash");
    let time = p.clock().expect("clock").now;
    let data = LevelData {
        level,
        hash,
        predecessor,
        time: Some(time),
        record: Some(LevelRecord {
            number: level,
            events,
            receipts,
            notices: Vec::new(),
            state_hash,
            fault: None,
        }),
    };
    (p.into_store(), data)
}

/// Levels of real protocol execution from scripted deposits and
/// operations, each of which must apply.
pub struct Script {
    store: Option<MemoryStore>,
    level: u32,
    /// The time of the last level.
    pub now: i64,
    hash: String,
    /// The levels so far.
    pub levels: Vec<LevelData>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            store: Some(MemoryStore::new()),
            level: 0,
            now: START,
            hash: "B0".to_owned(),
            levels: Vec::new(),
        }
    }
}

impl Script {
    /// One level `dt` seconds after the last: the deposits, then the
    /// operations, signed at each account's next nonce.
    pub fn level(
        &mut self,
        dt: i64,
        deposits: &[(Address, Ticket, u64)],
        ops: &[(&SecretKey, Operation)],
    ) {
        self.level += 1;
        self.now += dt;
        let mut p = Protocol::new(self.store.take().unwrap_or_default(), ROLLUP);
        let mut events = p.begin_level(self.level, self.now).expect("no fault");
        for (to, ticket, amount) in deposits {
            let got = p
                .deposit(*to, ticket.clone(), *amount)
                .expect("no fault")
                .expect("credited");
            events.extend(got);
        }
        let mut receipts = Vec::new();
        for (key, op) in ops {
            let signed = sign(&p, key, op.clone());
            let applied = p.apply(&signed).expect("no fault").expect("a known signer");
            if let Outcome::Failed { reason } = &applied.receipt.outcome {
                panic!("{op:?} failed: {reason:?}");
            }
            events.extend(applied.events);
            receipts.push(applied.receipt);
        }
        let hash = format!("B{}", self.level);
        let predecessor = std::mem::replace(&mut self.hash, hash.clone());
        let (store, data) = close_level(p, self.level, hash, predecessor, events, receipts);
        self.store = Some(store);
        self.levels.push(data);
    }
}

#[derive(Clone)]
pub struct Chain {
    store: Option<MemoryStore>,
    keys: Vec<SecretKey>,
    index: HashMap<Address, usize>,
    rng: StdRng,
    shape: Shape,
    pub level: u32,
    now: i64,
    fork: u64,
    hash: String,
}

/// An ed25519 key made of one repeated byte, for a test's named people.
pub fn seeded_key(seed: u8) -> SecretKey {
    SecretKey::from_bytes(Curve::Ed25519, [seed; 32]).expect("valid key")
}

/// Levels where `creator` publishes a profile and a 5 tez a month tier,
/// and `patron` (1,000 tez) and `dry` (2 tez, dry in 12 days) pledge to it
/// at level 3, where `patron` also tips the creator 1 tez.
pub fn pledges_and_a_tip(creator: &SecretKey, patron: &SecretKey, dry: &SecretKey) -> Script {
    let mut s = Script::default();
    s.level(
        60,
        &[
            (patron.public_key().address(), ticket(0), 1_000_000_000),
            (dry.public_key().address(), ticket(0), 2_000_000),
        ],
        &[],
    );
    s.level(
        60,
        &[],
        &[
            (creator, pledgeroll_contracts::fixtures::profile("Alerted")),
            (
                creator,
                pledgeroll_contracts::fixtures::tier(5_000_000, 2_592_000),
            ),
        ],
    );
    s.level(
        60,
        &[],
        &[
            (patron, pledgeroll_contracts::fixtures::pledge(TierId(0))),
            (dry, pledgeroll_contracts::fixtures::pledge(TierId(0))),
            (
                patron,
                Operation::Tip {
                    to: Holder::Account(creator.public_key().address()),
                    asset: AssetId(0),
                    amount: 1_000_000,
                    memo: text("thanks"),
                },
            ),
        ],
    );
    s
}

fn key(i: usize) -> SecretKey {
    let mut secret = [0x42u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    SecretKey::from_bytes(Curve::Ed25519, secret).expect("valid key")
}

fn text<const N: usize>(s: &str) -> Text<N> {
    Text::new(s).expect("short text")
}

impl Chain {
    pub fn new(seed: u64, shape: Shape) -> Self {
        let keys: Vec<SecretKey> = (0..shape.accounts).map(key).collect();
        let index = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.public_key().address(), i))
            .collect();
        Chain {
            store: Some(MemoryStore::new()),
            keys,
            index,
            rng: StdRng::seed_from_u64(seed),
            shape,
            level: 0,
            now: START,
            fork: 0,
            hash: "B0".to_owned(),
        }
    }

    /// A copy of this chain that goes on differently from here.
    pub fn fork(&self, seed: u64) -> Self {
        let mut other = self.clone();
        other.rng = StdRng::seed_from_u64(seed);
        other.fork = seed.wrapping_add(1);
        other
    }

    /// The protocol's state now.
    pub fn protocol(&self) -> Protocol<MemoryStore> {
        Protocol::new(self.store.clone().unwrap_or_default(), ROLLUP)
    }

    pub fn levels(&mut self, n: usize) -> Vec<LevelData> {
        (0..n).map(|_| self.next_level()).collect()
    }

    fn addr(&self, i: usize) -> Address {
        self.keys[i].public_key().address()
    }

    fn actor(&mut self) -> usize {
        self.rng.gen_range(0..self.keys.len())
    }

    fn someone(&mut self) -> Address {
        let i = self.actor();
        self.addr(i)
    }

    pub fn next_level(&mut self) -> LevelData {
        self.level += 1;
        self.now += if self.rng.gen_bool(self.shape.jump) {
            self.rng.gen_range(DAY..20 * DAY)
        } else {
            self.rng.gen_range(60..6 * HOUR)
        };
        let mut p = Protocol::new(self.store.take().unwrap_or_default(), ROLLUP);
        let mut events = p.begin_level(self.level, self.now).expect("no fault");
        let mut receipts = Vec::new();
        if self.level == 1 {
            for i in 0..self.keys.len() {
                for n in 0..2 {
                    let got = p
                        .deposit(self.addr(i), ticket(n), 2_000_000_000)
                        .expect("no fault")
                        .expect("credited");
                    events.extend(got);
                }
            }
        }
        for _ in 0..self.shape.ops_per_level {
            match self.operation(&p) {
                Step::Deposit(to, n, amount) => {
                    if let Ok(got) = p.deposit(to, ticket(n), amount).expect("no fault") {
                        events.extend(got);
                    }
                }
                Step::Op(i, op) => {
                    let signed = sign(&p, &self.keys[i], op);
                    let applied = p.apply(&signed).expect("no fault").expect("a known signer");
                    events.extend(applied.events);
                    receipts.push(applied.receipt);
                }
            }
        }
        let hash = format!("B{}-{}", self.level, self.fork);
        let predecessor = std::mem::replace(&mut self.hash, hash.clone());
        let (store, data) = close_level(p, self.level, hash, predecessor, events, receipts);
        self.store = Some(store);
        data
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.rng.gen_range(0..items.len())])
        }
    }

    fn operation(&mut self, p: &Protocol<MemoryStore>) -> Step {
        let counters = p.counters().expect("counters");
        let assets = counters.asset.max(1);
        let asset = AssetId(self.rng.gen_range(0..assets));
        let roll = self.rng.gen_range(0..100);
        // Creators' own operations come from the creators.
        let actor = if matches!(roll, 6..=14 | 60..=63) {
            self.rng
                .gen_range(0..self.shape.creators.clamp(1, self.keys.len()))
        } else {
            self.actor()
        };
        let me = self.addr(actor);
        let now = u64::try_from(self.now).unwrap_or(0);
        let tier = TierId(self.rng.gen_range(0..counters.tier.max(1)));
        let project = ProjectId(self.rng.gen_range(0..counters.project.max(1)));
        let mine = p.patron_pledges(&me).expect("read");
        let own_pledge = self
            .pick(&mine)
            .unwrap_or(PledgeId(self.rng.gen_range(0..counters.pledge.max(1))));
        let other = self.someone();
        let project_op = |op| Operation::Project { op };
        let op = match roll {
            0..=5 => {
                return Step::Deposit(
                    me,
                    self.rng.gen_range(0..2),
                    self.rng.gen_range(1..3) * 500_000_000,
                )
            }
            6..=9 => Operation::SetProfile {
                profile: Profile {
                    name: text(&format!(
                        "Creator {actor} — \"quoted\" \\ level {}",
                        self.level
                    )),
                    description: text("makes things\nand more"),
                    links: List::new(vec![text("https://example.org/a")]).expect("short"),
                },
            },
            10..=14 => Operation::AddTier {
                title: text(&format!("tier by {actor}")),
                perks: text("thanks"),
                asset,
                amount_per_period: self.rng.gen_range(1..40) * 10_000_000,
                period: self
                    .pick(&[3_600, 86_400, 604_800, 2_592_000, 1_000])
                    .unwrap_or(86_400),
                patron_limit: self.rng.gen_bool(0.2).then_some(3),
            },
            15..=32 => Operation::Pledge {
                tier,
                amount: None,
                end: self.rng.gen_bool(0.2).then(|| {
                    let days = self.rng.gen_range(1..30) as u64 * 86_400;
                    if self.rng.gen_bool(0.5) {
                        PledgeEnd::At { time: now + days }
                    } else {
                        PledgeEnd::After { seconds: days }
                    }
                }),
                cap: self
                    .rng
                    .gen_bool(0.15)
                    .then(|| self.rng.gen_range(1..20) * 10_000_000),
            },
            33..=36 => Operation::PausePledge { pledge: own_pledge },
            37..=41 => Operation::ResumePledge { pledge: own_pledge },
            42..=44 => Operation::CancelPledge { pledge: own_pledge },
            45..=47 => Operation::ChangePledge {
                pledge: own_pledge,
                tier,
                amount: None,
            },
            48..=53 => Operation::Tip {
                to: if self.rng.gen_bool(0.3) {
                    Holder::Project(project)
                } else {
                    Holder::Account(other)
                },
                asset,
                amount: self.rng.gen_range(1..1_000) * 100_000,
                memo: text("for the work"),
            },
            54..=57 => Operation::Transfer {
                to: other,
                asset,
                amount: self.rng.gen_range(1..1_000) * 100_000,
            },
            58..=59 => Operation::Withdraw {
                asset,
                amount: self.rng.gen_range(1..100) * 100_000,
                destination: Contract::Originated([0x77; 20]),
                entrypoint: text("default"),
            },
            60 => Operation::RetireTier { tier },
            61 => Operation::PauseCreator,
            62..=63 => Operation::ResumeCreator,
            64..=66 => {
                let a = self.someone();
                let b = self.someone();
                let private = self.rng.gen_bool(0.3);
                let commissioners = if a == b { vec![a] } else { vec![a, b] };
                let n = commissioners.len();
                let (mode, threshold) = if private && !commissioners.contains(&me) {
                    (Mode::Private { patron: me }, ((n + 1) / 3 + 1) as u8)
                } else {
                    (Mode::Public, self.rng.gen_range(1..=n) as u8)
                };
                project_op(ProjectOperation::Create {
                    title: text(&format!("Project of {actor}")),
                    description: text("open work"),
                    link: Some(text("https://example.org/repo")),
                    commissioners: List::new(commissioners).expect("short"),
                    threshold,
                    mode,
                    time_lock: Some(self.pick(&[3_600, 86_400]).unwrap_or(3_600)),
                    refund_deadline: now + self.rng.gen_range(5..60) as u64 * 86_400,
                })
            }
            67..=71 => project_op(ProjectOperation::Fund {
                project,
                asset,
                amount: self.rng.gen_range(1..100) * 1_000_000,
            }),
            72..=73 => project_op(ProjectOperation::Pledge {
                project,
                asset,
                amount_per_period: self.rng.gen_range(1..20) * 1_000_000,
                period: 86_400,
                end: None,
                cap: self.rng.gen_bool(0.3).then_some(50_000_000),
            }),
            74..=99 => return self.project_work(p, project, asset),
            _ => Operation::PauseCreator,
        };
        Step::Op(actor, op)
    }

    /// Work that only a project's commissioners or funders do.
    fn project_work(&mut self, p: &Protocol<MemoryStore>, id: ProjectId, asset: AssetId) -> Step {
        let Some(project) = p.project(id).expect("read") else {
            return Step::Op(self.actor(), Operation::PauseCreator);
        };
        let commissioners: Vec<usize> = project
            .commissioners
            .items()
            .iter()
            .filter_map(|a| self.index.get(a).copied())
            .collect();
        let c = self.pick(&commissioners).unwrap_or(0);
        let ticket = self.rng.gen_range(0..project.tickets.max(1));
        let invoice = self.rng.gen_range(0..project.invoices.max(1));
        let signer = match project.mode {
            Mode::Private { patron } if self.rng.gen_bool(0.5) => {
                self.index.get(&patron).copied().unwrap_or(c)
            }
            _ => c,
        };
        let op = match self.rng.gen_range(0..100) {
            0..=19 => ProjectOperation::OpenTicket {
                project: id,
                title: text("fix the thing"),
                url: Some(text("https://example.org/issues/1")),
                budget: None,
            },
            20..=39 => ProjectOperation::CloseTicket {
                project: id,
                ticket,
            },
            40..=64 => ProjectOperation::RaiseInvoice {
                project: id,
                ticket,
                beneficiary: self.someone(),
                asset,
                amount: self.rng.gen_range(1..20) * 1_000_000,
            },
            65..=84 => ProjectOperation::Approve {
                project: id,
                invoice,
            },
            85..=89 => ProjectOperation::Veto {
                project: id,
                invoice,
            },
            90..=92 => ProjectOperation::WithdrawInvoice {
                project: id,
                invoice,
            },
            93..=95 => ProjectOperation::ApproveRefund { project: id },
            _ => {
                let funder = self.actor();
                return Step::Op(
                    funder,
                    Operation::Project {
                        op: ProjectOperation::Reclaim { project: id },
                    },
                );
            }
        };
        Step::Op(signer, Operation::Project { op })
    }
}

enum Step {
    Deposit(Address, u8, u64),
    Op(usize, Operation),
}

/// `op` signed as `key`'s account would send it next; an operation naming
/// a record that does not exist has no statement, and goes with a
/// signature over other words for the protocol to refuse.
fn sign(p: &Protocol<MemoryStore>, key: &SecretKey, op: Operation) -> SignedOperation {
    match key.sign_next(p.store(), &ROLLUP, op.clone()) {
        Ok(signed) => signed,
        Err(StatementError::Unknown(_)) => {
            let account = p.account(&key.public_key().address()).expect("read");
            SignedOperation {
                signer: account
                    .index
                    .map_or_else(|| Signer::Key(key.public_key()), Signer::Index),
                operation: op,
                signature: key.sign(b"no statement"),
            }
        }
        Err(e) => panic!("{e}"),
    }
}
