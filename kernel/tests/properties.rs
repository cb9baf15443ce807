//! Arbitrary inboxes: random bytes, mutated frames and deposits, and valid
//! operations mixed together never panic the kernel, value is conserved in
//! every asset after every level, and no text that breaks the text rules is
//! ever stored (tip memos and profiles carry arbitrary characters).

// A test stops at the first surprise.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::*;
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::statement::Statement;
use pledgeroll_contracts::text::{self, Field};
use pledgeroll_contracts::{AssetId, Event, Holder, Operation, PledgeId, Signer, FINE_PER_UNIT};
use proptest::prelude::*;
use tezos_data_encoding::enc::BinWriter;
use tezos_smart_rollup_encoding::michelson::{MichelsonContract, MichelsonPair};

const PATRONS: usize = 3;

#[derive(Debug, Clone)]
enum OpKind {
    Transfer {
        to: usize,
        amount: u64,
    },
    Tip {
        to: usize,
        amount: u64,
        memo: String,
    },
    Profile {
        name: String,
        description: String,
        link: String,
    },
    Withdraw {
        amount: u64,
    },
    Pledge {
        tier: u64,
    },
    Cancel {
        pledge: u64,
    },
    Pause {
        pledge: u64,
    },
    Resume {
        pledge: u64,
    },
}

#[derive(Debug, Clone)]
enum Msg {
    /// Any bytes after the external-message tag.
    RawExternal(Vec<u8>),
    /// Any payload in a frame targeted at this rollup.
    Targeted(Vec<u8>),
    /// A valid batch frame with some bytes changed and maybe cut short.
    MutatedBatch {
        edits: Vec<(usize, u8)>,
        cut: Option<usize>,
    },
    /// A valid deposit parameter with some bytes changed and maybe cut short.
    MutatedDeposit {
        edits: Vec<(usize, u8)>,
        cut: Option<usize>,
    },
    /// A ticket transfer to this rollup whose parameter is any bytes.
    Transfer(Vec<u8>),
    /// A valid deposit.
    Deposit { to: usize, amount: u64 },
    /// Valid operations from the patrons (index `PATRONS` is the creator).
    Ops(Vec<(usize, OpKind)>),
    /// The level ends here.
    EndLevel,
}

fn op_kind() -> impl Strategy<Value = OpKind> {
    prop_oneof![
        (0..=PATRONS, 0u64..300).prop_map(|(to, amount)| OpKind::Transfer { to, amount }),
        (0..=PATRONS, 0u64..300, any_text(40)).prop_map(|(to, amount, memo)| OpKind::Tip {
            to,
            amount,
            memo
        }),
        (any_text(20), any_text(60), any_text(30)).prop_map(|(name, description, link)| {
            OpKind::Profile {
                name,
                description,
                link,
            }
        }),
        (0u64..300).prop_map(|amount| OpKind::Withdraw { amount }),
        (0u64..3).prop_map(|tier| OpKind::Pledge { tier }),
        (0u64..6).prop_map(|pledge| OpKind::Cancel { pledge }),
        (0u64..6).prop_map(|pledge| OpKind::Pause { pledge }),
        (0u64..6).prop_map(|pledge| OpKind::Resume { pledge }),
    ]
}

/// Text of any characters, weighted towards the ones the rules refuse.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    let char = prop_oneof![
        4 => prop::char::range('a', 'z'),
        1 => prop::char::range('\0', '\u{9f}'),
        1 => prop::sample::select(vec!['\n', '\u{202e}', '\u{2066}', '\u{fffe}', '\u{200f}', '東']),
        1 => any::<char>(),
    ];
    prop::collection::vec(char, 0..max).prop_map(|cs| {
        let s: String = cs.into_iter().collect();
        // Now and then a URL-shaped text, so links are tried both ways.
        if s.len() % 3 == 0 {
            format!("https://{s}")
        } else {
            s
        }
    })
}

/// `s` cut to at most `N` bytes, on a character boundary.
fn fit<const N: usize>(s: &str) -> Text<N> {
    let mut end = s.len().min(N);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Text::new(&s[..end]).unwrap()
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), 1u8..=255), 0..4)
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Msg::RawExternal),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Msg::Targeted),
        (edits(), prop::option::of(any::<usize>()))
            .prop_map(|(edits, cut)| Msg::MutatedBatch { edits, cut }),
        (edits(), prop::option::of(any::<usize>()))
            .prop_map(|(edits, cut)| Msg::MutatedDeposit { edits, cut }),
        prop::collection::vec(any::<u8>(), 0..120).prop_map(Msg::Transfer),
        (0..=PATRONS, 1u64..2_000).prop_map(|(to, amount)| Msg::Deposit { to, amount }),
        prop::collection::vec((0..=PATRONS, op_kind()), 1..4).prop_map(Msg::Ops),
        Just(Msg::EndLevel),
    ]
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    for (at, x) in edits {
        let i = at % bytes.len();
        bytes[i] ^= x;
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % bytes.len());
    }
    bytes
}

struct World {
    h: Harness,
    keys: Vec<SecretKey>,
    /// Every (holder, asset) whose flow ever changed.
    holders: BTreeSet<(Holder, AssetId)>,
}

impl World {
    fn new() -> Self {
        let mut keys: Vec<SecretKey> = (0..PATRONS as u32).map(|i| key(100 + i)).collect();
        keys.push(bootstrap1());
        let mut w = World {
            h: Harness::new(),
            keys,
            holders: BTreeSet::new(),
        };
        for (i, amount) in [1_000u64, 60, 5].into_iter().enumerate() {
            let who = addr(&w.keys[i]);
            w.h.deposit(&who, amount);
        }
        w.level();
        let creator = w.keys[PATRONS].clone();
        w.h.send(vec![
            (&creator, profile("Ada")),
            (&creator, tier(2_592_000, 2_592_000)),
            (&creator, tier(259_200, 86_400)),
        ]);
        w.level();
        let (p0, p1) = (w.keys[0].clone(), w.keys[1].clone());
        w.h.send(vec![(&p0, pledge(0)), (&p1, pledge(0))]);
        w.level();
        w
    }

    fn operation(&self, op: &OpKind) -> Operation {
        match op {
            OpKind::Transfer { to, amount } => transfer(&addr(&self.keys[*to]), *amount),
            OpKind::Tip { to, amount, memo } => Operation::Tip {
                to: Holder::Account(addr(&self.keys[*to])),
                asset: ASSET,
                amount: *amount,
                memo: fit(memo),
            },
            OpKind::Profile {
                name,
                description,
                link,
            } => Operation::SetProfile {
                profile: Profile {
                    name: fit(name),
                    description: fit(description),
                    links: List::new(vec![fit(link)]).unwrap(),
                },
            },
            OpKind::Withdraw { amount } => withdraw(*amount),
            OpKind::Pledge { tier } => pledge(*tier),
            OpKind::Cancel { pledge } => Operation::CancelPledge {
                pledge: PledgeId(*pledge),
            },
            OpKind::Pause { pledge } => Operation::PausePledge {
                pledge: PledgeId(*pledge),
            },
            OpKind::Resume { pledge } => Operation::ResumePledge {
                pledge: PledgeId(*pledge),
            },
        }
    }

    /// A valid batch frame, signed with a nonce far ahead of the account's
    /// so that no mutation of it can take an account's next nonce.
    fn batch_frame(&mut self) -> Vec<u8> {
        let rollup = self.h.rollup();
        let from = addr(&self.keys[0]);
        let transfer = transfer(&addr(&self.keys[1]), 3);
        let p = self.h.protocol();
        let statement = Statement::new(p.store(), &rollup, &from, 1_000_000, &transfer).unwrap();
        let op = self.keys[0].sign_operation(
            &statement,
            transfer,
            Signer::Key(self.keys[0].public_key()),
        );
        let mut frame = vec![0];
        frame.extend_from_slice(&self.h.rollup().0);
        frame.extend(Harness::batch_bytes(&[op]));
        frame
    }

    fn deposit_parameter(&self) -> Vec<u8> {
        let mut out = Vec::new();
        MichelsonPair(MichelsonContract(l1(&addr(&self.keys[2]))), ticket(40))
            .bin_write(&mut out)
            .unwrap();
        out
    }

    fn feed(&mut self, m: &Msg) {
        match m {
            Msg::RawExternal(bytes) => self.h.external(bytes.clone()),
            Msg::Targeted(bytes) => self.h.submit_bytes(bytes),
            Msg::MutatedBatch { edits, cut } => {
                let frame = mutate(self.batch_frame(), edits, *cut);
                self.h.external(frame);
            }
            Msg::MutatedDeposit { edits, cut } => {
                let parameter = mutate(self.deposit_parameter(), edits, *cut);
                self.h.transfer_in(Raw(parameter));
            }
            Msg::Transfer(bytes) => self.h.transfer_in(Raw(bytes.clone())),
            Msg::Deposit { to, amount } => {
                let who = addr(&self.keys[*to]);
                self.h.deposit(&who, *amount);
            }
            Msg::Ops(ops) => {
                let keys = self.keys.clone();
                let ops: Vec<_> = ops
                    .iter()
                    .map(|(who, op)| (&keys[*who], self.operation(op)))
                    .collect();
                self.h.send(ops);
            }
            Msg::EndLevel => self.level(),
        }
    }

    /// Runs a level and checks conservation in every asset.
    fn level(&mut self) {
        let (_, record) = self.h.run();
        for e in &record.events {
            match e {
                Event::FlowChanged { holder, asset, .. } => {
                    self.holders.insert((*holder, *asset));
                }
                Event::Tipped { memo, .. } => {
                    text::check("tip memo", Field::Line, memo.as_str()).unwrap();
                }
                Event::ProfileSet { profile, .. } => {
                    text::check("name", Field::Line, profile.name.as_str()).unwrap();
                    text::check("description", Field::Lines, profile.description.as_str()).unwrap();
                    for link in profile.links.items() {
                        text::check("link", Field::Url, link.as_str()).unwrap();
                    }
                }
                _ => {}
            }
        }
        let p = self.h.protocol();
        let assets = p.counters().unwrap().asset;
        for asset in (0..assets).map(AssetId) {
            let supply = p.supply(asset).unwrap();
            let held: u128 = self
                .holders
                .iter()
                .filter(|(_, a)| *a == asset)
                .map(|(holder, _)| p.balance_fine(holder, asset).unwrap())
                .sum();
            assert_eq!(
                held,
                (supply.deposited - supply.withdrawn) * FINE_PER_UNIT,
                "asset {asset}: balances {held} fine units, deposited {} and withdrawn {}",
                supply.deposited,
                supply.withdrawn,
            );
        }
        assert_eq!(record.state_hash, p.state_hash().unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_inboxes_never_panic_and_conserve_value(
        messages in prop::collection::vec(msg(), 1..40)
    ) {
        let mut w = World::new();
        for m in &messages {
            w.feed(m);
        }
        // Let streams run and run out.
        for _ in 0..3 {
            w.level();
        }
    }
}
