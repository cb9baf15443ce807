//! A rollup on `MockHost` driven the way layer 1 drives it: ticket deposits,
//! framed batches of signed operations, raw bytes, one level at a time.

#![allow(dead_code)]

use std::cell::Cell;
use std::collections::HashMap;

use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::operation::{MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::statement::Statement;
use pledgeroll_contracts::{
    Address, AssetId, Batch, Contract, Encode, Holder, Operation, Protocol, RollupAddress,
    SignedOperation, Signer, TierId,
};
use pledgeroll_interface::LevelRecord;
use pledgeroll_kernel::durable::Pending;
use pledgeroll_kernel::DurableStore;
use tezos_data_encoding::enc::{BinResult, BinWriter};
use tezos_data_encoding::encoding::{Encoding, HasEncoding};
use tezos_data_encoding::nom::{NomReader, NomResult};
use tezos_data_encoding::types::Zarith;
use tezos_smart_rollup_encoding::contract::Contract as L1Contract;
use tezos_smart_rollup_encoding::inbox::ExternalMessageFrame;
use tezos_smart_rollup_encoding::michelson::ticket::FA2_1Ticket;
use tezos_smart_rollup_encoding::michelson::{
    Michelson, MichelsonBytes, MichelsonContract, MichelsonInt, MichelsonOption, MichelsonPair,
};
use tezos_smart_rollup_encoding::outbox::OutboxMessage;
use tezos_smart_rollup_encoding::smart_rollup::SmartRollupAddress;
use tezos_smart_rollup_host::runtime::Runtime;
use tezos_smart_rollup_mock::{MockHost, TransferMetadata};

/// The contract that mints the test asset and sends deposits.
pub const TICKETER: &str = "KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc";
/// The layer-1 account behind deposits.
pub const SOURCE: &str = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";
/// Another rollup on the same layer 1.
pub const OTHER_ROLLUP: &str = "sr163Lv22CdE8QagCwf48PWDTquk6isQwv57";
/// The rollup under test.
pub const ROLLUP: &str = "sr1UNDWPUYVeomgG15wn5jSw689EJ4RNnVQa";
/// The first asset deposited.
pub const ASSET: AssetId = AssetId(0);

/// Octez's bootstrap1 account.
pub fn bootstrap1() -> SecretKey {
    "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh"
        .parse()
        .unwrap()
}

/// Octez's bootstrap2 account.
pub fn bootstrap2() -> SecretKey {
    "edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo"
        .parse()
        .unwrap()
}

/// A test key numbered `n`.
pub fn key(n: u32) -> SecretKey {
    let mut seed = [7u8; 32];
    seed[..4].copy_from_slice(&n.to_le_bytes());
    SecretKey::from_bytes(Curve::Ed25519, seed).unwrap()
}

/// The address of a key.
pub fn addr(k: &SecretKey) -> Address {
    k.public_key().address()
}

/// The layer-1 form of an account.
pub fn l1(a: &Address) -> L1Contract {
    L1Contract::from_b58check(&a.to_string()).unwrap()
}

/// `amount` of the test asset (token 0, no metadata) as a layer-1 ticket.
pub fn ticket(amount: u64) -> FA2_1Ticket {
    ticket_of(0, None, amount)
}

/// `amount` units of token `token` with `metadata`.
pub fn ticket_of(
    token: u64,
    metadata: Option<Vec<u8>>,
    amount: impl Into<num_bigint::BigInt>,
) -> FA2_1Ticket {
    FA2_1Ticket::new(
        L1Contract::from_b58check(TICKETER).unwrap(),
        MichelsonPair(
            MichelsonInt(Zarith(token.into())),
            MichelsonOption(metadata.map(MichelsonBytes)),
        ),
        amount,
    )
    .unwrap()
}

/// The parameter a wallet sends the rollup to deposit `ticket` for `receiver`.
pub type Parameter = MichelsonPair<MichelsonContract, FA2_1Ticket>;

/// A creator profile, and a tier of `per_period` units of [`ASSET`]
/// (asset 0) every `period` seconds.
#[allow(unused_imports)]
pub use pledgeroll_contracts::fixtures::{profile, tier};

/// A pledge at a tier's price.
pub fn pledge(tier: u64) -> Operation {
    pledgeroll_contracts::fixtures::pledge(TierId(tier))
}

/// A withdrawal of `amount` units of [`ASSET`] to the ticketer's `burn`.
pub fn withdraw(amount: u64) -> Operation {
    Operation::Withdraw {
        asset: ASSET,
        amount,
        destination: TICKETER.parse().unwrap(),
        entrypoint: Text::new("burn").unwrap(),
    }
}

/// A transfer of `amount` units of [`ASSET`].
pub fn transfer(to: &Address, amount: u64) -> Operation {
    Operation::Transfer {
        to: *to,
        asset: ASSET,
        amount,
    }
}

thread_local! {
    /// Kernel runs since [`Harness::run_counted`] started its level.
    static RUNS: Cell<u32> = const { Cell::new(0) };
}

fn counted_run(host: &mut MockHost) {
    RUNS.with(|r| r.set(r.get() + 1));
    pledgeroll_kernel::run(host);
}

/// Bytes written as they are, for messages no encoder would produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw(pub Vec<u8>);

impl BinWriter for Raw {
    fn bin_write(&self, output: &mut Vec<u8>) -> BinResult {
        output.extend_from_slice(&self.0);
        Ok(())
    }
}

impl HasEncoding for Raw {
    fn encoding() -> Encoding {
        Encoding::Custom
    }
}

impl NomReader for Raw {
    fn nom_read(input: &[u8]) -> NomResult<'_, Self> {
        Ok((&[], Raw(input.to_vec())))
    }
}

impl Michelson for Raw {}

/// The rollup under test, with the operations its test accounts signed
/// since the last level ran.
pub struct Harness {
    /// The host.
    pub host: MockHost,
    pending: HashMap<Address, u64>,
    /// The id of every operation signed, by its bytes.
    ids: HashMap<Vec<u8>, [u8; 32]>,
    /// Writes of queries, which write nothing.
    scratch: Pending,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh rollup that has run one empty level, so every later level
    /// starts with its info message.
    pub fn new() -> Self {
        let address = SmartRollupAddress::from_b58check(ROLLUP).unwrap();
        let mut h = Harness {
            host: MockHost::with_address(&address),
            pending: HashMap::new(),
            ids: HashMap::new(),
            scratch: Pending::default(),
        };
        h.run();
        h
    }

    /// The rollup's address.
    pub fn rollup(&self) -> RollupAddress {
        RollupAddress(self.host.reveal_metadata().raw_rollup_address)
    }

    /// Queues a ticket transfer with `parameter` from the ticketer.
    pub fn transfer_in(&mut self, parameter: impl Michelson) {
        let meta = TransferMetadata::new(TICKETER, SOURCE);
        self.host.add_transfer(parameter, &meta);
    }

    /// Queues a deposit of `amount` test units for `receiver`.
    pub fn deposit(&mut self, receiver: &Address, amount: u64) {
        self.transfer_in(MichelsonPair(
            MichelsonContract(l1(receiver)),
            ticket(amount),
        ));
    }

    /// Signs `op` with `key` as its account would send it next, counting
    /// what it signed since the last level ran: by key until a level
    /// revealed it, by number after. An operation naming a record that does
    /// not exist (yet) has no statement: it is signed over other words, for
    /// the kernel to refuse.
    pub fn sign(&mut self, key: &SecretKey, op: Operation) -> SignedOperation {
        let address = addr(key);
        let pending = self.pending.get(&address).copied().unwrap_or(0);
        let rollup = self.rollup();
        let p = self.protocol();
        let account = p.account(&address).unwrap();
        let nonce = account.next_nonce + pending;
        let statement = Statement::new(p.store(), &rollup, &address, nonce, &op);
        let signer = account
            .index
            .map_or_else(|| Signer::Key(key.public_key()), Signer::Index);
        let signed = match statement {
            Ok(statement) => {
                *self.pending.entry(address).or_insert(0) += 1;
                key.sign_operation(&statement, op, signer)
            }
            Err(_) => SignedOperation {
                signer,
                operation: op,
                signature: key.sign(b"no statement"),
            },
        };
        self.ids
            .insert(signed.to_bytes(), signed.hash(&address, nonce));
        signed
    }

    /// The id the receipt of `op`, signed by [`Harness::sign`], carries.
    pub fn id(&self, op: &SignedOperation) -> [u8; 32] {
        self.ids[&op.to_bytes()]
    }

    /// The bytes of a batch of `ops`.
    pub fn batch_bytes(ops: &[SignedOperation]) -> Vec<u8> {
        Batch {
            operations: List::new(ops.to_vec()).unwrap(),
        }
        .to_bytes()
    }

    /// Queues `payload` in a targeted external message for this rollup.
    pub fn submit_bytes(&mut self, payload: &[u8]) {
        let address = SmartRollupAddress::from_b58check(ROLLUP).unwrap();
        self.host.add_external(ExternalMessageFrame::Targetted {
            address,
            contents: payload,
        });
    }

    /// Queues one batch of `ops`.
    pub fn submit(&mut self, ops: &[SignedOperation]) {
        self.submit_bytes(&Self::batch_bytes(ops));
    }

    /// Signs and queues `ops` as one batch.
    pub fn send(&mut self, ops: Vec<(&SecretKey, Operation)>) {
        let signed: Vec<_> = ops.into_iter().map(|(k, op)| self.sign(k, op)).collect();
        self.submit(&signed);
    }

    /// Queues an external message of exactly `bytes` after its tag.
    pub fn external(&mut self, bytes: Vec<u8>) {
        self.host.add_external(Raw(bytes));
    }

    /// Queues `ops` in order, in as few batches as fit a message each;
    /// returns how many operations each message holds.
    pub fn submit_packed(&mut self, ops: &[SignedOperation]) -> Vec<usize> {
        let mut sizes = Vec::new();
        let mut current: Vec<SignedOperation> = Vec::new();
        for op in ops {
            current.push(op.clone());
            if current.len() > MAX_BATCH_OPERATIONS
                || Self::batch_bytes(&current).len() > MAX_BATCH_BYTES
            {
                let last = current.pop().unwrap();
                self.submit(&current);
                sizes.push(current.len());
                current = vec![last];
            }
        }
        if !current.is_empty() {
            self.submit(&current);
            sizes.push(current.len());
        }
        sizes
    }

    /// Runs the kernel over the queued inbox; returns the level and its record.
    pub fn run(&mut self) -> (u32, LevelRecord) {
        self.run_counted().0
    }

    /// Runs the kernel over the queued inbox; returns the level, its record
    /// and how many times the kernel ran in the level.
    pub fn run_counted(&mut self) -> ((u32, LevelRecord), u32) {
        RUNS.with(|r| r.set(0));
        self.pending.clear();
        let level = self.host.run_level(counted_run);
        ((level, self.record()), RUNS.with(Cell::get))
    }

    /// The stored level record.
    pub fn record(&self) -> LevelRecord {
        pledgeroll_kernel::level::read_record(&self.host)
            .unwrap()
            .unwrap()
    }

    /// The protocol over the rollup's durable state, for queries.
    pub fn protocol(&mut self) -> Protocol<DurableStore<'_, MockHost>> {
        let rollup = self.rollup();
        Protocol::new(DurableStore::new(&self.host, &mut self.scratch), rollup)
    }

    /// An account's balance in [`ASSET`], in base units.
    pub fn balance(&mut self, who: &Address) -> u128 {
        self.protocol()
            .balance(&Holder::Account(*who), ASSET)
            .unwrap()
    }

    /// The protocol's state hash.
    pub fn state_hash(&mut self) -> [u8; 32] {
        self.protocol().state_hash().unwrap()
    }

    /// The outbox messages written at `level`, decoded.
    pub fn outbox(&self, level: u32) -> Vec<OutboxMessage<FA2_1Ticket>> {
        self.outbox_of(level)
    }

    /// The outbox messages of `level`, read with parameters of type `P`.
    pub fn outbox_of<P: Michelson>(&self, level: u32) -> Vec<OutboxMessage<P>> {
        self.host
            .outbox_at(level)
            .iter()
            .map(|bytes| {
                let (rest, m) = OutboxMessage::<P>::nom_read(bytes).unwrap();
                assert!(rest.is_empty());
                m
            })
            .collect()
    }

    /// The raw durable value at `path`.
    pub fn durable(&self, path: &str) -> Option<Vec<u8>> {
        let path = tezos_smart_rollup_host::path::OwnedPath::try_from(path.to_owned()).unwrap();
        pledgeroll_kernel::durable::read_value(&self.host, &path).unwrap()
    }

    /// Sets up a creator (bootstrap1) with one tier of one unit a second,
    /// and a patron (bootstrap2) holding `funds` units who pledges to it.
    pub fn creator_and_patron(&mut self, funds: u64) -> (SecretKey, SecretKey) {
        let creator = bootstrap1();
        let patron = bootstrap2();
        self.deposit(&addr(&patron), funds);
        self.run();
        self.send(vec![
            (&creator, profile("Ada")),
            (&creator, tier(2_592_000, 2_592_000)),
        ]);
        self.run();
        self.send(vec![(&patron, pledge(0))]);
        let (_, record) = self.run();
        assert!(record.receipts.iter().all(|r| r.outcome.is_applied()));
        (creator, patron)
    }
}

/// The single transaction of an outbox message.
pub fn only_transaction(
    m: &OutboxMessage<FA2_1Ticket>,
) -> &tezos_smart_rollup_encoding::outbox::OutboxMessageTransaction<FA2_1Ticket> {
    let OutboxMessage::AtomicTransactionBatch(batch) = m;
    assert_eq!(batch.len(), 1);
    &batch[0]
}

/// The protocol's form of the ticketer.
pub fn ticketer() -> Contract {
    TICKETER.parse().unwrap()
}
