//! One run of the kernel: one inbox level, applied whole or not at all.

use pledgeroll_contracts::{Batch, Event, Protocol, Receipt, RollupAddress};
use tezos_smart_rollup_encoding::inbox::Transfer;
use tezos_smart_rollup_host::input::Message;
use tezos_smart_rollup_host::runtime::Runtime;

use crate::durable::{DurableStore, Pending};
use crate::error::Abort;
use crate::inbox::{self, DepositParameter, Input};
use crate::level::{LevelRecord, Notice, NoticeKind};
use crate::outbox::{self, MAX_OUTBOX_PER_LEVEL};
use crate::paths;

/// Runs the kernel over the current inbox level.
///
/// It begins the level at the layer-1 time of the level's info message
/// (running the protocol's due tasks), then takes every message in order:
/// batches of signed operations for this rollup, ticket deposits, and nothing
/// else. It records the level, queues the level's outbox messages, writes
/// the level's changes to durable storage in one go, then sends up to
/// [`MAX_OUTBOX_PER_LEVEL`] queued messages. If storage fails or the
/// protocol finds its state inconsistent, the level's changes are dropped,
/// its deposits are sent back and its record says why.
pub fn run<H: Runtime>(host: &mut H) {
    let rollup = RollupAddress(host.reveal_metadata().raw_rollup_address);
    let mut level = Level::new(rollup);
    loop {
        match host.read_input() {
            Ok(Some(message)) => level.handle(host, &message),
            Ok(None) => break,
            Err(e) => {
                debug(host, &format!("cannot read the inbox: {e}"));
                break;
            }
        }
    }
    level.finish(host);
}

fn debug(host: &impl Runtime, message: &str) {
    host.write_debug(&format!("pledgeroll: {message}\n"));
}

/// What the level has produced so far.
struct Level {
    rollup: RollupAddress,
    /// The inbox level, known from its first message.
    number: Option<u32>,
    /// Whether the protocol's level has begun.
    begun: bool,
    /// The level's changes, not yet in durable storage.
    pending: Pending,
    /// Why the level aborted, once it has.
    fault: Option<String>,
    events: Vec<Event>,
    receipts: Vec<Receipt>,
    notices: Vec<Notice>,
    /// Outbox messages produced by the level, in order.
    outbox: Vec<Vec<u8>>,
    /// Batches for this rollup seen so far, by message index.
    batches: Vec<u32>,
    /// Deposits seen so far, with the message that returns each ticket.
    deposits: Vec<(u32, Option<Vec<u8>>)>,
}

impl Level {
    fn new(rollup: RollupAddress) -> Self {
        Level {
            rollup,
            number: None,
            begun: false,
            pending: Pending::default(),
            fault: None,
            events: Vec::new(),
            receipts: Vec::new(),
            notices: Vec::new(),
            outbox: Vec::new(),
            batches: Vec::new(),
            deposits: Vec::new(),
        }
    }

    fn protocol<'a, H: Runtime>(&'a mut self, host: &'a H) -> Protocol<DurableStore<'a, H>> {
        Protocol::new(DurableStore::new(host, &mut self.pending), self.rollup)
    }

    fn handle<H: Runtime>(&mut self, host: &H, message: &Message) {
        let number = *self.number.get_or_insert(message.level);
        let id = message.id;
        match inbox::classify(message.as_ref(), &self.rollup.0) {
            Input::StartOfLevel | Input::EndOfLevel => {}
            Input::LevelInfo { timestamp } => self.begin(host, number, Some(timestamp)),
            Input::Foreign => debug(host, &format!("message {id} is for another rollup")),
            Input::Unrecognised(reason) => {
                debug(host, &format!("message {id} ignored: {reason}"));
                self.notices
                    .push(Notice::new(id, NoticeKind::Unrecognised, reason));
            }
            Input::Operations(payload) => {
                self.batches.push(id);
                match &self.fault {
                    Some(fault) => self.notices.push(dropped_batch(id, fault)),
                    None => {
                        self.begin(host, number, None);
                        self.apply_batch(host, id, payload);
                    }
                }
            }
            Input::Deposit(transfer) => self.deposit(host, number, id, *transfer),
        }
    }

    /// Begins the protocol's level once, at `timestamp` or, for a level
    /// without an info message, at the protocol's current time.
    fn begin<H: Runtime>(&mut self, host: &H, number: u32, timestamp: Option<i64>) {
        if self.begun || self.fault.is_some() {
            return;
        }
        self.begun = true;
        let mut protocol = self.protocol(host);
        let result = match timestamp {
            Some(t) => Ok(t),
            None => protocol
                .clock()
                .map(|c| i64::try_from(c.now).unwrap_or(i64::MAX)),
        }
        .and_then(|t| protocol.begin_level(number, t));
        match result {
            Ok(events) => self.events.extend(events),
            Err(fault) => self.abort(host, fault.into()),
        }
    }

    fn apply_batch<H: Runtime>(&mut self, host: &H, id: u32, payload: &[u8]) {
        let batch = match Batch::parse(payload) {
            Ok(batch) => batch,
            Err(e) => {
                debug(host, &format!("batch in message {id} rejected: {e}"));
                self.notices.push(Notice::new(
                    id,
                    NoticeKind::BatchRejected,
                    &format!("the batch does not decode: {e}"),
                ));
                return;
            }
        };
        for op in batch.operations.items() {
            if self.fault.is_some() {
                return;
            }
            let result = self.protocol(host).apply(op);
            match result {
                Ok(applied) => {
                    for w in &applied.withdrawals {
                        match outbox::withdrawal_message(w) {
                            Ok(m) => self.outbox.push(m),
                            Err(e) => return self.abort(host, e),
                        }
                    }
                    self.events.extend(applied.events);
                    self.receipts.push(applied.receipt);
                }
                Err(fault) => return self.abort(host, fault.into()),
            }
        }
    }

    fn deposit<H: Runtime>(
        &mut self,
        host: &H,
        number: u32,
        id: u32,
        transfer: Transfer<DepositParameter>,
    ) {
        let deposit = inbox::read_deposit(transfer);
        let refund = outbox::refund_message(deposit.sender, deposit.ticket);
        self.deposits.push((id, refund.clone()));
        if let Some(fault) = self.fault.clone() {
            return self.give_back(id, refund, &format!("the level aborted: {fault}"));
        }
        let credit = match deposit.credit {
            Ok(credit) => credit,
            Err(reason) => return self.give_back(id, refund, reason),
        };
        self.begin(host, number, None);
        if self.fault.is_some() {
            // The abort already sent this deposit back.
            return;
        }
        let result = self
            .protocol(host)
            .deposit(credit.receiver, credit.ticket, credit.amount);
        match result {
            Ok(Ok(events)) => self.events.extend(events),
            Ok(Err(rejection)) => self.give_back(id, refund, &rejection.to_string()),
            Err(fault) => self.abort(host, fault.into()),
        }
    }

    /// Sends an uncredited deposit's ticket back, or says it cannot be.
    fn give_back(&mut self, id: u32, refund: Option<Vec<u8>>, reason: &str) {
        match refund {
            Some(message) => {
                self.outbox.push(message);
                self.notices.push(Notice::new(
                    id,
                    NoticeKind::DepositRefunded,
                    &format!("returned to the sender: {reason}"),
                ));
            }
            None => self.notices.push(Notice::new(
                id,
                NoticeKind::DepositDropped,
                &format!("not credited and not returnable: {reason}"),
            )),
        }
    }

    /// Stops the level: drops its changes and operations and sends back
    /// every deposit it received.
    fn abort<H: Runtime>(&mut self, host: &H, error: Abort) {
        if self.fault.is_some() {
            return;
        }
        let fault = error.to_string();
        debug(
            host,
            &format!("level aborted, its changes dropped: {fault}"),
        );
        self.pending = Pending::default();
        self.events.clear();
        self.receipts.clear();
        self.outbox.clear();
        self.notices.retain(|n| n.kind == NoticeKind::Unrecognised);
        for id in self.batches.clone() {
            self.notices.push(dropped_batch(id, &fault));
        }
        for (id, refund) in self.deposits.clone() {
            self.give_back(id, refund, &format!("the level aborted: {fault}"));
        }
        self.fault = Some(fault);
    }

    /// Records the level and queues its outbox messages, writes its changes
    /// to durable storage, then sends what the outbox can take this level.
    fn finish<H: Runtime>(mut self, host: &mut H) {
        if let Some(number) = self.number {
            self.begin(host, number, None);
        }
        let ready = match self.settle(host) {
            Ok(ready) => ready,
            Err(e) => {
                self.abort(host, e);
                match self.settle(host) {
                    Ok(ready) => ready,
                    Err(e) => {
                        return debug(host, &format!("cannot record the aborted level: {e}"));
                    }
                }
            }
        };
        if let Err(e) = core::mem::take(&mut self.pending).commit(host) {
            // A message leaves only once durable storage records it left.
            return debug(host, &format!("cannot write the level: {e}"));
        }
        for message in ready {
            if let Err(e) = host.write_output(&message) {
                debug(
                    host,
                    &format!("outbox refused a message, queued again: {e}"),
                );
                let mut again = Pending::default();
                let queued =
                    outbox::enqueue(host, &mut again, &[message]).and_then(|()| again.commit(host));
                if let Err(e) = queued {
                    debug(host, &format!("cannot queue the message again: {e}"));
                }
            }
        }
    }

    /// Adds the level's record and outbox messages to its writes, and takes
    /// the messages to send from the queue.
    fn settle<H: Runtime>(&mut self, host: &H) -> Result<Vec<Vec<u8>>, Abort> {
        if self.pending.get(host, &paths::LAYOUT)?.is_none() {
            self.pending
                .write(&paths::LAYOUT, &paths::LAYOUT_VERSION.to_le_bytes());
        }
        if let Some(number) = self.number {
            self.notices.sort_by_key(|n| n.message);
            let state_hash = self.protocol(host).state_hash()?;
            LevelRecord {
                number,
                events: core::mem::take(&mut self.events),
                receipts: core::mem::take(&mut self.receipts),
                notices: self.notices.clone(),
                state_hash,
                fault: self.fault.clone(),
            }
            .write(&mut self.pending);
        }
        let messages = core::mem::take(&mut self.outbox);
        outbox::enqueue(host, &mut self.pending, &messages)?;
        outbox::dequeue(host, &mut self.pending, MAX_OUTBOX_PER_LEVEL)
    }
}

fn dropped_batch(id: u32, fault: &str) -> Notice {
    Notice::new(
        id,
        NoticeKind::BatchDropped,
        &format!("the level aborted, send the operations again: {fault}"),
    )
}
