//! One run of the kernel: as much of the inbox level as one run can take,
//! each operation applied whole or not at all.

use pledgeroll_contracts::{Batch, Event, Protocol, Receipt, RollupAddress};
use tezos_smart_rollup_encoding::inbox::Transfer;
use tezos_smart_rollup_host::input::Message;
use tezos_smart_rollup_host::runtime::Runtime;

use crate::budget::{self, TickBudget};
use crate::durable::{DurableStore, Pending};
use crate::error::Abort;
use crate::inbox::{self, DepositParameter, Input};
use crate::level::{read_progress, write_progress, StoredList};
use crate::outbox;
use pledgeroll_interface::paths;
use pledgeroll_interface::pvm::MAX_OUTBOX_PER_LEVEL;
use pledgeroll_interface::record::{Notice, NoticeKind, Progress, RecordError};

/// Runs the kernel over the current inbox level, or over as much of it as
/// one run can take.
///
/// A level begins at the layer-1 time of its info message (running the
/// protocol's due tasks); then every message is taken in order: batches of
/// signed operations for this rollup, ticket deposits, and nothing else.
///
/// After its first message, a run reads another only while its estimated
/// ticks leave room for the costliest message ([`budget`]). If it has to
/// stop before the inbox is read, it writes what it applied, the level
/// record so far and the level's [`Progress`] to durable storage, and asks
/// for a reboot; the next run goes on from the next message without
/// beginning the level again.
/// The run that reads the whole inbox records the level, writes its
/// changes, then sends up to [`MAX_OUTBOX_PER_LEVEL`] queued outbox
/// messages.
///
/// If storage fails or the protocol finds its state inconsistent, the
/// failing run's changes are dropped and, from that run's first message to
/// the level's end, batches are dropped and deposits sent back; the level
/// record says why. Earlier runs of the level stand.
pub fn run<H: Runtime>(host: &mut H) {
    let rollup = RollupAddress(host.reveal_metadata().raw_rollup_address);
    let mut level = Level::resume(host, rollup);
    // Every run reads at least one message, so a level takes at most one
    // run per message and one more.
    let mut read = false;
    loop {
        if read && !level.budget.allows_another_message() {
            return level.end_run(host, false);
        }
        match host.read_input() {
            Ok(Some(message)) => {
                read = true;
                level.handle(host, &message);
            }
            Ok(None) => break,
            Err(e) => {
                debug(host, &format!("cannot read the inbox: {e}"));
                break;
            }
        }
    }
    level.end_run(host, true);
}

fn debug(host: &impl Runtime, message: &str) {
    host.write_debug(&format!("pledgeroll: {message}\n"));
}

/// What earlier runs of the level recorded.
#[derive(Debug, Default)]
struct Earlier {
    events: StoredList,
    receipts: StoredList,
    notices: StoredList,
}

impl Earlier {
    fn read(host: &impl Runtime) -> Result<Self, RecordError> {
        Ok(Earlier {
            events: StoredList::read(host, &paths::LEVEL_EVENTS)?,
            receipts: StoredList::read(host, &paths::LEVEL_RECEIPTS)?,
            notices: StoredList::read(host, &paths::LEVEL_NOTICES)?,
        })
    }

    fn byte_len(&self) -> usize {
        self.events.byte_len() + self.receipts.byte_len() + self.notices.byte_len()
    }
}

/// What the level has produced so far. Everything but `earlier` and the
/// progress fields is this run's own.
struct Level {
    rollup: RollupAddress,
    /// The inbox level, known from its first message or from the progress
    /// an earlier run left.
    number: Option<u32>,
    /// Whether the protocol's level has begun.
    begun: bool,
    /// Runs of this level before this one.
    runs: u32,
    /// The index of the next message to read.
    next_message: u32,
    /// What earlier runs of the level recorded.
    earlier: Earlier,
    /// The ticks this run has used, as estimated.
    budget: TickBudget,
    /// The run's changes, not yet in durable storage.
    pending: Pending,
    /// Why the level aborted, once it has.
    fault: Option<String>,
    events: Vec<Event>,
    receipts: Vec<Receipt>,
    notices: Vec<Notice>,
    /// Outbox messages produced by the run, in order.
    outbox: Vec<Vec<u8>>,
    /// Batches for this rollup the run has seen, by message index.
    batches: Vec<u32>,
    /// Deposits the run has seen, with the message that returns each ticket.
    deposits: Vec<(u32, Option<Vec<u8>>)>,
}

impl Level {
    fn new(rollup: RollupAddress) -> Self {
        Level {
            rollup,
            number: None,
            begun: false,
            runs: 0,
            next_message: 0,
            earlier: Earlier::default(),
            budget: TickBudget::new(),
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

    /// The level an earlier run left unfinished, or a new one.
    fn resume<H: Runtime>(host: &H, rollup: RollupAddress) -> Self {
        let mut level = Level::new(rollup);
        let progress = read_progress(host).and_then(|progress| match progress {
            Some(p) => {
                let fault = crate::durable::read_value(host, &paths::LEVEL_FAULT)
                    .map_err(|e| RecordError::Storage(e.to_string()))?;
                Ok(Some((p, Earlier::read(host)?, fault)))
            }
            None => Ok(None),
        });
        match progress {
            Ok(None) => {}
            Ok(Some((p, earlier, fault))) => {
                level.number = Some(p.level);
                level.begun = p.begun;
                level.runs = p.runs;
                level.next_message = p.next_message;
                level.fault = fault.map(|f| String::from_utf8_lossy(&f).into_owned());
                let bytes = u64::try_from(earlier.byte_len()).unwrap_or(u64::MAX);
                level
                    .budget
                    .charge(bytes.saturating_mul(budget::RECORD_BYTE_TICKS));
                level.earlier = earlier;
            }
            Err(e) => level.abort(
                host,
                Abort::Storage {
                    path: paths::LEVEL.to_string(),
                    reason: format!("cannot read where the level stands: {e}"),
                },
            ),
        }
        level
    }

    fn protocol<'a, H: Runtime>(&'a mut self, host: &'a H) -> Protocol<DurableStore<'a, H>> {
        Protocol::new(DurableStore::new(host, &mut self.pending), self.rollup)
    }

    fn handle<H: Runtime>(&mut self, host: &H, message: &Message) {
        if let Some(unfinished) = self.number.filter(|n| *n != message.level) {
            // The last run of that level failed before the level's end: what
            // it wrote stands, and this is a new level.
            debug(
                host,
                &format!(
                    "level {unfinished} did not finish; level {} starts afresh",
                    message.level
                ),
            );
            let budget = self.budget;
            *self = Level::new(self.rollup);
            self.budget = budget;
        }
        self.budget.charge(budget::MESSAGE_TICKS);
        let number = *self.number.get_or_insert(message.level);
        let id = message.id;
        self.next_message = id.saturating_add(1);
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
        let before = self.pending.accesses();
        let mut protocol = self.protocol(host);
        let result = match timestamp {
            Some(t) => Ok(t),
            None => protocol
                .clock()
                .map(|c| i64::try_from(c.now).unwrap_or(i64::MAX)),
        }
        .and_then(|t| protocol.begin_level(number, t));
        self.charge_accesses_since(before);
        match result {
            Ok(events) => self.events.extend(events),
            Err(fault) => self.abort(host, fault.into()),
        }
    }

    fn charge_accesses_since(&mut self, before: u64) {
        // An abort in between replaces the counter: nothing is then charged.
        let accesses = self.pending.accesses().saturating_sub(before);
        self.budget.charge_accesses(accesses);
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
        for (n, op) in batch.operations.items().iter().enumerate() {
            if self.fault.is_some() {
                return;
            }
            let before = self.pending.accesses();
            let result = self.protocol(host).apply(op);
            self.charge_accesses_since(before);
            match result {
                Ok(None) => self.notices.push(Notice::new(
                    id,
                    NoticeKind::UnknownSigner,
                    &format!(
                        "operation {n} of the batch is signed by an account number the rollup \
                         has not given; it was skipped"
                    ),
                )),
                Ok(Some(applied)) => {
                    self.budget
                        .charge(budget::operation_ticks(applied.receipt.signer.curve()));
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
        self.budget.charge(budget::DEPOSIT_TICKS);
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
        let before = self.pending.accesses();
        let result = self
            .protocol(host)
            .deposit(credit.receiver, credit.ticket, credit.amount);
        self.charge_accesses_since(before);
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

    /// Stops the level: drops this run's changes and operations and sends
    /// back every deposit the run received. Earlier runs' work stands.
    fn abort<H: Runtime>(&mut self, host: &H, error: Abort) {
        if self.fault.is_some() {
            return;
        }
        let fault = error.to_string();
        debug(
            host,
            &format!("level aborted, this run's changes dropped: {fault}"),
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

    /// Ends the run: writes its changes, the level record so far and its
    /// outbox messages to durable storage. The `last` run of the level
    /// then sends what the outbox can take this level; any other leaves the
    /// level's progress and asks for a reboot.
    fn end_run<H: Runtime>(mut self, host: &mut H, last: bool) {
        if last {
            if let Some(number) = self.number {
                self.begin(host, number, None);
            }
        }
        let ready = match self.settle(host, last) {
            Ok(ready) => ready,
            Err(e) => {
                self.abort(host, e);
                match self.settle(host, last) {
                    Ok(ready) => ready,
                    Err(e) => {
                        return debug(host, &format!("cannot record the aborted level: {e}"));
                    }
                }
            }
        };
        if let Err(e) = core::mem::take(&mut self.pending).commit(host) {
            // A message leaves only once durable storage records it left,
            // and the next run needs this one's place.
            return debug(host, &format!("cannot write the level: {e}"));
        }
        let number = self.number.unwrap_or_default();
        let runs = self.runs.saturating_add(1);
        let spent = self.budget.spent();
        if !last {
            let next = self.next_message;
            match host.mark_for_reboot() {
                Ok(()) => debug(
                    host,
                    &format!(
                        "level {number}, run {runs}: about {spent} ticks; the next run reads on from message {next}"
                    ),
                ),
                Err(e) => debug(
                    host,
                    &format!("level {number}: cannot ask for a reboot, the rest of the level is lost: {e}"),
                ),
            }
            return;
        }
        if runs > 1 {
            debug(
                host,
                &format!("level {number} done in {runs} runs, the last about {spent} ticks"),
            );
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

    /// Adds the level record so far and the run's outbox messages to the
    /// run's writes, with the level's progress unless this is its `last`
    /// run; the last run also takes the messages to send from the queue.
    fn settle<H: Runtime>(&mut self, host: &H, last: bool) -> Result<Vec<Vec<u8>>, Abort> {
        if self.pending.get(host, &paths::LAYOUT)?.is_none() {
            self.pending
                .write(&paths::LAYOUT, &paths::LAYOUT_VERSION.to_le_bytes());
        }
        if let Some(number) = self.number {
            // Earlier runs' notices all come before this run's messages.
            self.notices.sort_by_key(|n| n.message);
            let state_hash = self.protocol(host).state_hash()?;
            let earlier = &self.earlier;
            let pending = &mut self.pending;
            pending.write(&paths::LEVEL_NUMBER, &number.to_le_bytes());
            pending.write(&paths::LEVEL_EVENTS, &earlier.events.with(&self.events));
            pending.write(
                &paths::LEVEL_RECEIPTS,
                &earlier.receipts.with(&self.receipts),
            );
            pending.write(&paths::LEVEL_NOTICES, &earlier.notices.with(&self.notices));
            pending.write(&paths::LEVEL_STATE_HASH, &state_hash);
            match &self.fault {
                Some(fault) => pending.write(&paths::LEVEL_FAULT, fault.as_bytes()),
                None => pending.remove(&paths::LEVEL_FAULT),
            }
            if last {
                pending.remove(&paths::LEVEL_PROGRESS);
            } else {
                let progress = Progress {
                    level: number,
                    runs: self.runs.saturating_add(1),
                    next_message: self.next_message,
                    begun: self.begun,
                };
                write_progress(&progress, pending);
            }
        }
        let messages = core::mem::take(&mut self.outbox);
        outbox::enqueue(host, &mut self.pending, &messages)?;
        if last {
            outbox::dequeue(host, &mut self.pending, MAX_OUTBOX_PER_LEVEL)
        } else {
            Ok(Vec::new())
        }
    }
}

fn dropped_batch(id: u32, fault: &str) -> Notice {
    Notice::new(
        id,
        NoticeKind::BatchDropped,
        &format!("the level aborted, send the operations again: {fault}"),
    )
}
