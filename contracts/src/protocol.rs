//! The state machine: begin a level (running what is due), apply signed
//! operations and deposits, and answer queries.

use crate::asset::{AssetId, Supply, Ticket};
use crate::context::{self, Ctx};
use crate::crypto::{Address, Contract, PublicKey, RollupAddress};
use crate::encoding::Text;
use crate::error::{Failure, Fault, Rejection};
use crate::escrow;
use crate::event::{Created, Event, Outcome, Receipt, Withdrawal, MAX_REASON};
use crate::keys;
use crate::ledger::{self, credit, debit, fine};
use crate::operation::{Operation, SignedOperation, Signer, MAX_ENTRYPOINT};
use crate::patronage;
use crate::schedule::{self, Task};
use crate::state::{
    Account, Clock, Counters, Creator, Holder, PatronPledges, Pledge, PledgeId, ProjectId, Tier,
    TierId,
};
use crate::statement::{amount_words, Statement, StatementError};
use crate::store::{self, Store, Writes};

type Finished = (Writes, Vec<Event>, Vec<Withdrawal>);
use crate::stream::{Flow, MAX_TIME};
use crate::text;

/// What applying one operation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The operation's receipt.
    pub receipt: Receipt,
    /// The state changes (none but the nonce's if it failed).
    pub events: Vec<Event>,
    /// Tickets to send to layer 1.
    pub withdrawals: Vec<Withdrawal>,
}

/// The protocol over a store, for one rollup.
#[derive(Debug)]
pub struct Protocol<S: Store> {
    store: S,
    rollup: RollupAddress,
}

impl<S: Store> Protocol<S> {
    /// The protocol of rollup `rollup` over `store`.
    pub fn new(store: S, rollup: RollupAddress) -> Self {
        Self { store, rollup }
    }

    /// The rollup this protocol accepts signatures for.
    pub fn rollup(&self) -> &RollupAddress {
        &self.rollup
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The underlying store, mutably (for the host's own bookkeeping keys).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    fn commit(&mut self, done: Finished) -> Result<(Vec<Event>, Vec<Withdrawal>), Fault> {
        let (writes, events, withdrawals) = done;
        store::commit(&mut self.store, writes)?;
        Ok((events, withdrawals))
    }

    /// Starts a level at layer-1 time `timestamp` (seconds): moves the clock
    /// (never backwards) and runs every scheduled task due by then, in time
    /// order. Returns the events they produced.
    pub fn begin_level(&mut self, level: u32, timestamp: i64) -> Result<Vec<Event>, Fault> {
        let clock = self.clock()?;
        let stamp = u64::try_from(timestamp).unwrap_or(0).min(MAX_TIME);
        let now = clock.now.max(stamp);
        let mut events = self.run_due(now)?;
        let mut ctx = Ctx::new(&self.store, now);
        ctx.put(keys::CLOCK, &Clock { level, now });
        events.extend(self.commit(ctx.finish())?.0);
        Ok(events)
    }

    /// Runs every task due at or before `now`, each at its own time.
    fn run_due(&mut self, now: u64) -> Result<Vec<Event>, Fault> {
        let mut events = Vec::new();
        loop {
            let mut ctx = Ctx::new(&self.store, now);
            let Some(entry) = schedule::peek(&ctx)? else {
                break;
            };
            if entry.time > now {
                break;
            }
            schedule::pop(&mut ctx)?;
            ctx.now = entry.time;
            let result = match entry.task {
                Task::Depletion { holder, asset } => {
                    patronage::deplete(&mut ctx, holder, asset, entry.time)
                }
                Task::PledgeEnd { pledge } => patronage::end_due(&mut ctx, pledge, entry.time),
                Task::InvoiceUnlock { project, invoice } => {
                    escrow::unlock_due(&mut ctx, project, invoice)
                }
            };
            match result {
                Ok(()) => {}
                Err(Failure::Fault(f)) => return Err(f),
                // Tasks act on the protocol's own records and cannot be
                // refused; one that is would leave the state inconsistent.
                Err(Failure::Rejected(_)) => {
                    return Err(Fault::Inconsistent("a scheduled task was refused"))
                }
            }
            events.extend(self.commit(ctx.finish())?.0);
        }
        Ok(events)
    }

    /// Credits a ticket deposit from layer 1 to `receiver`, numbering the
    /// ticket kind on first sight. A refusal (balance bound) changes nothing.
    pub fn deposit(
        &mut self,
        receiver: Address,
        ticket: Ticket,
        amount: u64,
    ) -> Result<Result<Vec<Event>, Rejection>, Fault> {
        let now = self.clock()?.now;
        let mut ctx = Ctx::new(&self.store, now);
        match deposit_in(&mut ctx, receiver, ticket, amount) {
            Ok(()) => Ok(Ok(self.commit(ctx.finish())?.0)),
            Err(Failure::Rejected(r)) => Ok(Err(r)),
            Err(Failure::Fault(f)) => Err(f),
        }
    }

    /// Applies one signed operation at the current level's time.
    ///
    /// The operation is checked against its statement
    /// ([`Statement`]) at the signer's next nonce. A bad signature, or a
    /// statement naming a record that does not exist, changes nothing.
    /// Otherwise the nonce is used even if the operation is then refused, so
    /// a refused operation can never be replayed later; the operation's own
    /// changes apply whole or not at all.
    ///
    /// `None` when the signer is an account number the rollup never gave:
    /// there is no account to hold a receipt (the kernel notes the message).
    pub fn apply(&mut self, op: &SignedOperation) -> Result<Option<Applied>, Fault> {
        let now = self.clock()?.now;
        let Some(signer) = signer_account(&self.store, &op.signer)? else {
            return Ok(None);
        };
        let account = self.account(&signer)?;
        let nonce = account.next_nonce;
        let failed = |reason: Rejection| Applied {
            receipt: receipt(op, signer, nonce, Err(reason.to_string())),
            events: Vec::new(),
            withdrawals: Vec::new(),
        };
        let key = match (&op.signer, &account.public_key) {
            (Signer::Key(k), _) => k.clone(),
            (Signer::Index(_), Some(k)) => k.clone(),
            (Signer::Index(_), None) => {
                return Err(Fault::Inconsistent("a numbered account has no key"))
            }
        };
        let statement =
            match Statement::new(&self.store, &self.rollup, &signer, nonce, &op.operation) {
                Ok(statement) => statement,
                Err(StatementError::Unknown(what)) => {
                    return Ok(Some(failed(Rejection::Unknown(what))))
                }
                Err(StatementError::Fault(f)) => return Err(f),
            };
        if !key.verify(&statement.bytes(), &op.signature) {
            return Ok(Some(failed(Rejection::BadSignature { nonce })));
        }

        let mut ctx = Ctx::new(&self.store, now);
        authorise(&mut ctx, signer, &account, key.clone())?;
        match dispatch(&mut ctx, signer, op.operation.clone()) {
            Ok(()) => {
                let created = ctx.created;
                let (events, withdrawals) = self.commit(ctx.finish())?;
                Ok(Some(Applied {
                    receipt: receipt(op, signer, nonce, Ok(created)),
                    events,
                    withdrawals,
                }))
            }
            Err(Failure::Fault(f)) => Err(f),
            Err(Failure::Rejected(reason)) => {
                drop(ctx);
                let reason = self.reason(&reason)?;
                let mut ctx = Ctx::new(&self.store, now);
                authorise(&mut ctx, signer, &account, key)?;
                let (events, _) = self.commit(ctx.finish())?;
                Ok(Some(Applied {
                    receipt: receipt(op, signer, nonce, Err(reason)),
                    events,
                    withdrawals: Vec::new(),
                }))
            }
        }
    }

    /// Why `r` refused an operation, in words, amounts in their assets'
    /// units: `insufficient balance: 3.5 tez available, 10 tez needed`.
    fn reason(&self, r: &Rejection) -> Result<String, Fault> {
        Ok(match r {
            Rejection::InsufficientBalance {
                asset,
                available,
                needed,
            } => match self.asset(*asset)? {
                Some(ticket) => format!(
                    "insufficient balance: {} available, {} needed",
                    amount_words(&ticket, *asset, *available),
                    amount_words(&ticket, *asset, *needed)
                ),
                None => r.to_string(),
            },
            _ => r.to_string(),
        })
    }

    /// The statement `signer` signs for `op` at its next nonce, as the
    /// protocol will check it now.
    pub fn statement(&self, signer: &Address, op: &Operation) -> Result<Statement, StatementError> {
        let nonce = self.account(signer)?.next_nonce;
        Statement::new(&self.store, &self.rollup, signer, nonce, op)
    }

    /// The address of the account numbered `n`, if any.
    pub fn account_by_index(&self, n: u64) -> Result<Option<Address>, Fault> {
        signer_account(&self.store, &Signer::Index(n))
    }

    /// The protocol's clock.
    pub fn clock(&self) -> Result<Clock, Fault> {
        Ok(context::read(&self.store, keys::CLOCK)?.unwrap_or_default())
    }

    /// The id counters.
    pub fn counters(&self) -> Result<Counters, Fault> {
        Ok(context::read(&self.store, keys::COUNTERS)?.unwrap_or_default())
    }

    /// The state hash over everything stored.
    pub fn state_hash(&self) -> Result<[u8; 32], Fault> {
        Ok(store::read_state_hash(&self.store)?)
    }

    /// An account's nonce and key (default for an unseen account).
    pub fn account(&self, a: &Address) -> Result<Account, Fault> {
        account_in(&self.store, a)
    }

    /// A holder's flow in an asset, as last stored.
    pub fn flow(&self, holder: &Holder, asset: AssetId) -> Result<Flow, Fault> {
        Ok(context::read(&self.store, &keys::flow(holder, asset))?.unwrap_or_default())
    }

    /// A holder's flow in an asset as it stands at the protocol's current
    /// time (see [`current_flow`]).
    pub fn current_flow(&self, holder: &Holder, asset: AssetId) -> Result<Flow, Fault> {
        current_flow(&self.store, holder, asset, self.clock()?.now)
    }

    /// A holder's balance in fine units at the protocol's current time.
    pub fn balance_fine(&self, holder: &Holder, asset: AssetId) -> Result<u128, Fault> {
        Ok(self.current_flow(holder, asset)?.settled)
    }

    /// A holder's balance in whole base units at the protocol's current time.
    pub fn balance(&self, holder: &Holder, asset: AssetId) -> Result<u128, Fault> {
        Ok(self.balance_fine(holder, asset)? / crate::asset::FINE_PER_UNIT)
    }

    /// When an account's balance in an asset runs out at current rates, or
    /// `None` if it does not.
    pub fn runway(&self, a: &Address, asset: AssetId) -> Result<Option<u64>, Fault> {
        Ok(self
            .current_flow(&Holder::Account(*a), asset)?
            .depletion_time())
    }

    /// An asset's ticket.
    pub fn asset(&self, id: AssetId) -> Result<Option<Ticket>, Fault> {
        context::read(&self.store, &keys::asset(id))
    }

    /// An asset's totals in and out.
    pub fn supply(&self, id: AssetId) -> Result<Supply, Fault> {
        Ok(context::read(&self.store, &keys::supply(id))?.unwrap_or_default())
    }

    /// A creator.
    pub fn creator(&self, a: &Address) -> Result<Option<Creator>, Fault> {
        context::read(&self.store, &keys::creator(a))
    }

    /// A tier.
    pub fn tier(&self, id: TierId) -> Result<Option<Tier>, Fault> {
        context::read(&self.store, &keys::tier(id))
    }

    /// A pledge.
    pub fn pledge(&self, id: PledgeId) -> Result<Option<Pledge>, Fault> {
        context::read(&self.store, &keys::pledge(id))
    }

    /// A project escrow.
    pub fn project(&self, id: ProjectId) -> Result<Option<escrow::Project>, Fault> {
        context::read(&self.store, &keys::project(id))
    }

    /// A project's accounts in one asset.
    pub fn escrow_asset(
        &self,
        id: ProjectId,
        asset: AssetId,
    ) -> Result<escrow::EscrowAsset, Fault> {
        Ok(context::read(&self.store, &keys::project_asset(id, asset))?.unwrap_or_default())
    }

    /// A project's invoice.
    pub fn invoice(&self, id: ProjectId, n: u32) -> Result<Option<escrow::Invoice>, Fault> {
        context::read(&self.store, &keys::project_invoice(id, n))
    }

    /// A project's ticket.
    pub fn work_ticket(&self, id: ProjectId, n: u32) -> Result<Option<escrow::WorkTicket>, Fault> {
        context::read(&self.store, &keys::project_ticket(id, n))
    }

    /// A funder's contributions to a project.
    pub fn funder(&self, id: ProjectId, who: &Address) -> Result<escrow::Funder, Fault> {
        Ok(context::read(&self.store, &keys::project_funder(id, who))?.unwrap_or_default())
    }

    /// The pledges an account pays, active or paused.
    pub fn patron_pledges(&self, a: &Address) -> Result<Vec<PledgeId>, Fault> {
        let list: PatronPledges =
            context::read(&self.store, &keys::patron_pledges(a))?.unwrap_or_default();
        Ok(list.items().to_vec())
    }
}

/// An account as `state` holds it (the default for one never seen).
pub fn account_in<S: Store>(state: &S, a: &Address) -> Result<Account, Fault> {
    Ok(context::read(state, &keys::account(a))?.unwrap_or_default())
}

/// A holder's flow in `asset` as it stands at `now`, read from `state`:
/// settled at `now` (or at its last change, if later), with its pledges to
/// paused creators given back what they were charged and left out of the
/// outflow while paused ([`Flow::current`]). Its balance, rates and
/// depletion time are the ones to show; the stored flow is a lower bound.
/// Reads at most [`crate::state::MAX_PLEDGES_PER_PATRON`] pledges and their
/// creators.
pub fn current_flow<S: Store>(
    state: &S,
    holder: &Holder,
    asset: AssetId,
    now: u64,
) -> Result<Flow, Fault> {
    let Some(flow) = context::read::<_, Flow>(state, &keys::flow(holder, asset))? else {
        return Ok(Flow {
            at: now,
            ..Flow::default()
        });
    };
    let now = now.max(flow.at);
    let paused: Vec<_> = match holder {
        Holder::Account(patron) => ledger::paused_pledges(state, patron, asset, now)?
            .into_iter()
            .map(|p| p.stream)
            .collect(),
        Holder::Project(_) => Vec::new(),
    };
    Ok(flow.current(now, &paused)?)
}

/// The account an operation's signer names, read from `state`: the key's
/// own, or the one numbered so; `None` for a number never given.
pub fn signer_account<S: Store>(state: &S, signer: &Signer) -> Result<Option<Address>, Fault> {
    match signer {
        Signer::Key(k) => Ok(Some(k.address())),
        Signer::Index(n) => context::read(state, &keys::account_by_index(*n)),
    }
}

fn receipt(
    op: &SignedOperation,
    signer: Address,
    nonce: u64,
    result: Result<Option<Created>, String>,
) -> Receipt {
    let outcome = match result {
        Ok(created) => Outcome::Applied { created },
        Err(mut text) => {
            if text.len() > MAX_REASON {
                let mut cut = MAX_REASON;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
            }
            Outcome::Failed {
                reason: Text::new(text).unwrap_or_default(),
            }
        }
    };
    Receipt {
        hash: op.hash(&signer, nonce),
        signer,
        nonce,
        outcome,
    }
}

/// Uses the nonce; on an account's first operation records its key and
/// numbers it.
fn authorise<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    account: &Account,
    key: PublicKey,
) -> Result<(), Fault> {
    let mut next = account.clone();
    next.next_nonce = account.next_nonce.saturating_add(1);
    if account.public_key.is_none() {
        let mut counters: Counters = ctx.get(keys::COUNTERS)?.unwrap_or_default();
        let index = counters.account;
        counters.account = index.saturating_add(1);
        ctx.put(keys::COUNTERS, &counters);
        ctx.put(&keys::account_by_index(index), &signer);
        next.public_key = Some(key.clone());
        next.index = Some(index);
        ctx.emit(Event::AccountRevealed {
            account: signer,
            public_key: key,
            index,
        });
    }
    ctx.put(&keys::account(&signer), &next);
    Ok(())
}

fn dispatch<S: Store>(ctx: &mut Ctx<'_, S>, signer: Address, op: Operation) -> Result<(), Failure> {
    text::check_operation(&op).map_err(Rejection::from)?;
    match op {
        Operation::Pledge {
            tier,
            amount,
            end,
            cap,
        } => patronage::pledge(ctx, signer, tier, amount, end, cap),
        Operation::ChangePledge {
            pledge,
            tier,
            amount,
        } => patronage::change_pledge(ctx, signer, pledge, tier, amount),
        Operation::PausePledge { pledge } => patronage::pause_pledge(ctx, signer, pledge),
        Operation::ResumePledge { pledge } => patronage::resume_pledge(ctx, signer, pledge),
        Operation::CancelPledge { pledge } => patronage::cancel_pledge(ctx, signer, pledge),
        Operation::Transfer { to, asset, amount } => transfer(ctx, signer, to, asset, amount),
        Operation::Tip {
            to,
            asset,
            amount,
            memo,
        } => {
            match to {
                Holder::Account(_) => move_units(ctx, signer, to, asset, amount)?,
                Holder::Project(project) => {
                    escrow::contribute(ctx, signer, project, asset, amount)?
                }
            }
            ctx.emit(Event::Tipped {
                from: signer,
                to,
                asset,
                amount,
                memo,
            });
            Ok(())
        }
        Operation::Withdraw {
            asset,
            amount,
            destination,
            entrypoint,
        } => withdraw(ctx, signer, asset, amount, destination, entrypoint),
        Operation::SetProfile { profile } => patronage::set_profile(ctx, signer, profile),
        Operation::AddTier {
            title,
            perks,
            asset,
            amount_per_period,
            period,
            patron_limit,
        } => patronage::add_tier(
            ctx,
            signer,
            title,
            perks,
            asset,
            amount_per_period,
            period,
            patron_limit,
        ),
        Operation::RetireTier { tier } => patronage::retire_tier(ctx, signer, tier),
        Operation::PauseCreator => patronage::set_creator_paused(ctx, signer, true),
        Operation::ResumeCreator => patronage::set_creator_paused(ctx, signer, false),
        Operation::Project { op } => escrow::apply(ctx, signer, op),
    }
}

fn deposit_in<S: Store>(
    ctx: &mut Ctx<'_, S>,
    receiver: Address,
    ticket: Ticket,
    amount: u64,
) -> Result<(), Failure> {
    if amount == 0 {
        return Err(Rejection::ZeroAmount.into());
    }
    // A ticket kind is stored in its canonical encoding, which bounds its
    // metadata: a longer one could be stored but never read back.
    if ticket
        .metadata
        .as_ref()
        .is_some_and(|m| m.len() > crate::asset::MAX_TICKET_METADATA)
    {
        return Err(Rejection::Refused("ticket metadata is longer than 256 bytes").into());
    }
    let digest = ticket.digest();
    let asset = match ctx.get::<AssetId>(&keys::asset_by_ticket(&digest))? {
        Some(id) => id,
        None => {
            let mut counters: Counters = ctx.get(keys::COUNTERS)?.unwrap_or_default();
            let id = AssetId(counters.asset);
            counters.asset = counters
                .asset
                .checked_add(1)
                .ok_or(Rejection::Refused("no asset numbers left"))?;
            ctx.put(keys::COUNTERS, &counters);
            ctx.put(&keys::asset_by_ticket(&digest), &id);
            ctx.put(&keys::asset(id), &ticket);
            ctx.emit(Event::AssetRegistered { asset: id, ticket });
            id
        }
    };
    credit(ctx, &Holder::Account(receiver), asset, fine(amount))?;
    let mut supply: Supply = ctx.get(&keys::supply(asset))?.unwrap_or_default();
    supply.deposited = supply.deposited.saturating_add(u128::from(amount));
    ctx.put(&keys::supply(asset), &supply);
    ctx.emit(Event::Deposited {
        account: receiver,
        asset,
        amount,
    });
    Ok(())
}

/// Moves whole units from an account to a holder.
fn move_units<S: Store>(
    ctx: &mut Ctx<'_, S>,
    from: Address,
    to: Holder,
    asset: AssetId,
    amount: u64,
) -> Result<(), Failure> {
    if amount == 0 {
        return Err(Rejection::ZeroAmount.into());
    }
    patronage::require_asset(ctx, asset)?;
    if to == Holder::Account(from) {
        return Err(Rejection::Refused("sender and receiver are the same account").into());
    }
    debit(ctx, &Holder::Account(from), asset, fine(amount))?;
    credit(ctx, &to, asset, fine(amount))
}

fn transfer<S: Store>(
    ctx: &mut Ctx<'_, S>,
    from: Address,
    to: Address,
    asset: AssetId,
    amount: u64,
) -> Result<(), Failure> {
    move_units(ctx, from, Holder::Account(to), asset, amount)?;
    ctx.emit(Event::Transferred {
        from,
        to,
        asset,
        amount,
    });
    Ok(())
}

fn withdraw<S: Store>(
    ctx: &mut Ctx<'_, S>,
    from: Address,
    asset: AssetId,
    amount: u64,
    destination: Contract,
    entrypoint: Text<MAX_ENTRYPOINT>,
) -> Result<(), Failure> {
    if amount == 0 {
        return Err(Rejection::ZeroAmount.into());
    }
    let ticket: Ticket = ctx
        .get(&keys::asset(asset))?
        .ok_or(Rejection::UnknownAsset(asset))?;
    // A rollup's outbox calls only originated contracts: a withdrawal to an
    // implicit account goes through the ticket's ticketer (its exchanger),
    // which an implicit account can never be.
    if let (Contract::Implicit(_), Contract::Implicit(_)) = (destination, ticket.ticketer) {
        return Err(Rejection::Refused(
            "this asset's ticketer is not a contract, so it cannot pay out to a tz address",
        )
        .into());
    }
    if entrypoint.as_str().is_empty()
        || !entrypoint
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Rejection::Refused(
            "an entrypoint is a non-empty name of letters, digits and _",
        )
        .into());
    }
    debit(ctx, &Holder::Account(from), asset, fine(amount))?;
    let mut supply: Supply = ctx.get(&keys::supply(asset))?.unwrap_or_default();
    supply.withdrawn = supply.withdrawn.saturating_add(u128::from(amount));
    ctx.put(&keys::supply(asset), &supply);
    ctx.withdrawals.push(Withdrawal {
        destination,
        entrypoint: entrypoint.clone(),
        ticket,
        amount,
    });
    ctx.emit(Event::Withdrawn {
        account: from,
        asset,
        amount,
        destination,
        entrypoint,
    });
    Ok(())
}
