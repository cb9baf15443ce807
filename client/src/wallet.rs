//! The wallet's steps for Rust programs: read the rollup's state, build an
//! operation, sign it, frame it for the inbox, inject it and wait for its
//! receipt. The `pledgeroll` CLI is a thin layer over these.

use std::time::Duration;

use pledgeroll_contracts::asset::{Supply, FINE_PER_UNIT};
use pledgeroll_contracts::encoding::Reader;
use pledgeroll_contracts::escrow::{EscrowAsset, Invoice, Project, WorkTicket};
use pledgeroll_contracts::keys;
use pledgeroll_contracts::protocol::{account_in, current_flow, signer_account};
use pledgeroll_contracts::signing::{sign_batch, SecretKey, Signed};
use pledgeroll_contracts::state::{Account, Clock, Counters, Creator, PatronPledges, Pledge, Tier};
use pledgeroll_contracts::statement::{Statement, StatementError};
use pledgeroll_contracts::stream::{rate_for, Flow};
use pledgeroll_contracts::units::{format_duration, DAY};
use pledgeroll_contracts::{
    Address, AssetId, Batch, DecodeError, Encode, Holder, Operation, Outcome, PledgeId, ProjectId,
    PublicKey, Receipt, RollupAddress, Signature, SignedOperation, Signer, Ticket, TierId,
};
use thiserror::Error;

use crate::assets::{AssetBook, AssetInfo};
use crate::facts::Facts;
use pledgeroll_interface::frame::FrameError;
use pledgeroll_interface::{paths, Node, NodeError};

/// Why a wallet step failed.
#[derive(Debug, Error)]
pub enum WalletError {
    /// The node failed or refused.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The operation was applied and refused by the protocol.
    #[error("the rollup refused the operation: {0}")]
    Refused(String),
    /// A message too large for one inbox message.
    #[error("the batch is {0} bytes; one inbox message carries at most 4,074")]
    TooLarge(usize),
    /// The operation names a record that does not exist.
    #[error("{0} does not exist")]
    Unknown(String),
    /// The node's state does not read as the protocol's.
    #[error("the rollup's state does not read: {0}")]
    State(String),
    /// An operation signed elsewhere that does not read.
    #[error("{0}")]
    Malformed(String),
    /// A signature not made over the operation's statement.
    #[error("the signature is not over this operation's statement at nonce {nonce}: {text}")]
    BadSignature {
        /// The nonce the statement names.
        nonce: u64,
        /// The statement's words.
        text: String,
    },
}

/// What happened to a submitted operation.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The operation's hash, hex.
    pub hash: String,
    /// The level that applied it, when waited for.
    pub level: Option<u32>,
    /// Its receipt, when waited for.
    pub receipt: Option<Receipt>,
}

/// Frames a batch as a targeted external message for `rollup` (the bytes to
/// give the rollup node's batcher, which adds the external-message tag).
pub fn frame(rollup: &RollupAddress, batch: &Batch) -> Result<Vec<u8>, WalletError> {
    pledgeroll_interface::frame::batch(rollup, batch)
        .map_err(|FrameError::TooLarge(len)| WalletError::TooLarge(len))
}

/// A wallet connected to a rollup node.
#[derive(Debug, Clone)]
pub struct Wallet {
    /// The node.
    pub node: Node,
    /// The rollup's address.
    pub rollup: RollupAddress,
    /// Asset names and decimals.
    pub book: AssetBook,
}

impl Wallet {
    /// Connects to the node at `url`, learning the rollup's address.
    /// A sandbox's own assets join the book.
    pub async fn connect(url: &str, mut book: AssetBook) -> Result<Self, WalletError> {
        let node = Node::new(url);
        let rollup = node.rollup_address().await?;
        book.extend(crate::sandbox::assets(&node).await);
        Ok(Self { node, rollup, book })
    }

    async fn state<T: pledgeroll_contracts::Decode>(
        &self,
        key: &str,
    ) -> Result<Option<T>, WalletError> {
        Ok(self.node.state("head", key).await?)
    }

    /// The protocol's clock at the head.
    pub async fn clock(&self) -> Result<Clock, WalletError> {
        Ok(self.state(keys::CLOCK).await?.unwrap_or_default())
    }

    /// The id counters at the head.
    pub async fn counters(&self) -> Result<Counters, WalletError> {
        Ok(self.state(keys::COUNTERS).await?.unwrap_or_default())
    }

    /// An account's nonce and key.
    pub async fn account(&self, a: &Address) -> Result<Account, WalletError> {
        Ok(self.state(&keys::account(a)).await?.unwrap_or_default())
    }

    /// A holder's flow in an asset as it stands at the rollup's current
    /// time: settled, with pledges to paused creators streaming nothing
    /// ([`current_flow`], read from one block).
    pub async fn flow(&self, h: &Holder, asset: AssetId) -> Result<Flow, WalletError> {
        let now = self.clock().await?.now;
        self.with_facts(|facts| current_flow(facts, h, asset, now).map_err(StatementError::Fault))
            .await
    }

    /// A holder's balance in whole base units at the rollup's current time.
    pub async fn balance(&self, h: &Holder, asset: AssetId) -> Result<u128, WalletError> {
        Ok(self.flow(h, asset).await?.settled / FINE_PER_UNIT)
    }

    /// A warning, in words, when with the pledge `op` added `patron`'s
    /// balance in its asset would run out within [`SOON_DRY`] (the stream
    /// then stops until a deposit); `None` for other operations or a
    /// longer runway.
    pub async fn soon_dry(
        &self,
        patron: &Address,
        op: &Operation,
    ) -> Result<Option<String>, WalletError> {
        let Operation::Pledge { tier, amount, .. } = op else {
            return Ok(None);
        };
        let Some(t) = self.tier(*tier).await? else {
            return Ok(None);
        };
        let rate = rate_for(amount.unwrap_or(t.amount_per_period), t.period).unwrap_or(u128::MAX);
        let flow = self.flow(&Holder::Account(*patron), t.asset).await?;
        let now = self.clock().await?.now;
        let balance = flow.balance_at(now.max(flow.at)).unwrap_or(0);
        let net_out = flow
            .outflow
            .saturating_add(rate)
            .saturating_sub(flow.inflow);
        if net_out == 0 {
            return Ok(None);
        }
        let runway = u64::try_from(balance / net_out).unwrap_or(u64::MAX);
        if runway >= SOON_DRY {
            return Ok(None);
        }
        let info = self.asset_info(t.asset).await?;
        Ok(Some(format!(
            "with this pledge your {} runs out in {}; the pledge stops then until you deposit",
            info.symbol,
            format_duration(runway)
        )))
    }

    /// Every asset the rollup has seen, with its ticket and how to show it.
    pub async fn assets(&self) -> Result<Vec<(AssetId, Ticket, AssetInfo)>, WalletError> {
        let n = self.counters().await?.asset;
        let mut out = Vec::new();
        for id in (0..n).map(AssetId) {
            if let Some(t) = self.state::<Ticket>(&keys::asset(id)).await? {
                let info = self.book.info(id, Some(&t));
                out.push((id, t, info));
            }
        }
        Ok(out)
    }

    /// The asset named `symbol` (`tez`, `USD`, or `asset#3`).
    pub async fn asset_by_symbol(
        &self,
        symbol: &str,
    ) -> Result<Option<(AssetId, AssetInfo)>, WalletError> {
        Ok(self
            .assets()
            .await?
            .into_iter()
            .find(|(_, _, info)| info.symbol.eq_ignore_ascii_case(symbol))
            .map(|(id, _, info)| (id, info)))
    }

    /// How to show asset `id`.
    pub async fn asset_info(&self, id: AssetId) -> Result<AssetInfo, WalletError> {
        let ticket = self.state::<Ticket>(&keys::asset(id)).await?;
        Ok(self.book.info(id, ticket.as_ref()))
    }

    /// An asset's totals in and out.
    pub async fn supply(&self, id: AssetId) -> Result<Supply, WalletError> {
        Ok(self.state(&keys::supply(id)).await?.unwrap_or_default())
    }

    /// A creator.
    pub async fn creator(&self, a: &Address) -> Result<Option<Creator>, WalletError> {
        self.state(&keys::creator(a)).await
    }

    /// A tier.
    pub async fn tier(&self, id: TierId) -> Result<Option<Tier>, WalletError> {
        self.state(&keys::tier(id)).await
    }

    /// A pledge.
    pub async fn pledge(&self, id: PledgeId) -> Result<Option<Pledge>, WalletError> {
        self.state(&keys::pledge(id)).await
    }

    /// The pledges an account pays.
    pub async fn patron_pledges(
        &self,
        a: &Address,
    ) -> Result<Vec<(PledgeId, Pledge)>, WalletError> {
        let list: PatronPledges = self
            .state(&keys::patron_pledges(a))
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        for id in list.items().iter().copied() {
            if let Some(p) = self.pledge(id).await? {
                out.push((id, p));
            }
        }
        Ok(out)
    }

    /// The live pledges paying a holder.
    pub async fn pledges_to(&self, h: &Holder) -> Result<Vec<(PledgeId, Pledge)>, WalletError> {
        let n: u64 = self.state(&keys::payee_pledge_count(h)).await?.unwrap_or(0);
        let mut out = Vec::new();
        for i in 0..n {
            if let Some(id) = self.state::<PledgeId>(&keys::payee_pledge(h, i)).await? {
                if let Some(p) = self.pledge(id).await?.filter(Pledge::is_live) {
                    out.push((id, p));
                }
            }
        }
        Ok(out)
    }

    /// A project.
    pub async fn project(&self, id: ProjectId) -> Result<Option<Project>, WalletError> {
        self.state(&keys::project(id)).await
    }

    /// A project's accounts in an asset.
    pub async fn escrow_asset(
        &self,
        id: ProjectId,
        asset: AssetId,
    ) -> Result<EscrowAsset, WalletError> {
        Ok(self
            .state(&keys::project_asset(id, asset))
            .await?
            .unwrap_or_default())
    }

    /// A project's ticket.
    pub async fn work_ticket(
        &self,
        id: ProjectId,
        n: u32,
    ) -> Result<Option<WorkTicket>, WalletError> {
        self.state(&keys::project_ticket(id, n)).await
    }

    /// A project's invoice.
    pub async fn invoice(&self, id: ProjectId, n: u32) -> Result<Option<Invoice>, WalletError> {
        self.state(&keys::project_invoice(id, n)).await
    }

    /// Runs `attempt` over the state it reads, fetching from the head block
    /// what it read and was not yet fetched, until it read nothing new.
    async fn with_facts<T>(
        &self,
        attempt: impl Fn(&Facts) -> Result<T, StatementError>,
    ) -> Result<T, WalletError> {
        let block = self.node.level("head").await?.to_string();
        let mut facts = Facts::default();
        // Every round fetches at least one more key; a statement reads a
        // handful per operation.
        for _ in 0..MAX_FETCH_ROUNDS {
            let result = attempt(&facts);
            let missing = facts.take_missing();
            if missing.is_empty() {
                return result.map_err(|e| match e {
                    StatementError::Unknown(what) => WalletError::Unknown(what),
                    StatementError::Fault(f) => WalletError::State(f.to_string()),
                });
            }
            for key in missing {
                let full = format!("{}{key}", paths::STATE);
                let value = self.node.durable_value(&block, &full).await?;
                facts.insert(key, value);
            }
        }
        Err(WalletError::State(
            "the statement kept needing more of the state".to_owned(),
        ))
    }

    /// Signs `ops` to send together in one batch, in order, each as its
    /// key's account would send it next (nonces counting up through the
    /// batch), over statements made from the rollup's head.
    pub async fn sign_batch(
        &self,
        ops: Vec<(&SecretKey, Operation)>,
    ) -> Result<Vec<Signed>, WalletError> {
        self.with_facts(|facts| sign_batch(facts, &self.rollup, ops.clone()))
            .await
    }

    /// Signs `op` with `key` as its account would send it next.
    pub async fn sign(&self, key: &SecretKey, op: Operation) -> Result<Signed, WalletError> {
        self.sign_batch(vec![(key, op)])
            .await?
            .pop()
            .ok_or(WalletError::Refused("nothing was signed".to_owned()))
    }

    /// What `signer` would sign for `op` next, for a signer outside the
    /// wallet: the statement, the nonce, and the signer as the operation
    /// names it (its number once the rollup knows it).
    pub async fn unsigned(
        &self,
        signer: &PublicKeyOrAddress,
        op: &Operation,
    ) -> Result<Unsigned, WalletError> {
        let address = signer.address();
        self.with_facts(|facts| {
            let account = account_in(facts, &address)?;
            let statement = Statement::new(facts, &self.rollup, &address, account.next_nonce, op)?;
            let named = match (account.index, signer) {
                (Some(n), _) => Some(Signer::Index(n)),
                (None, PublicKeyOrAddress::Key(k)) => Some(Signer::Key(k.clone())),
                (None, PublicKeyOrAddress::Address(_)) => None,
            };
            Ok(Unsigned {
                address,
                nonce: account.next_nonce,
                signer: named,
                statement,
            })
        })
        .await
    }

    /// A signed operation made elsewhere, with what its signature must be
    /// over: its signer's account, next nonce and statement at the head.
    pub async fn prepare(&self, operation: SignedOperation) -> Result<Signed, WalletError> {
        self.with_facts(|facts| {
            let address = signer_account(facts, &operation.signer)?.ok_or_else(|| {
                StatementError::Unknown("the account number the operation is signed by".to_owned())
            })?;
            let account = account_in(facts, &address)?;
            let statement = Statement::new(
                facts,
                &self.rollup,
                &address,
                account.next_nonce,
                &operation.operation,
            )?;
            Ok(Signed {
                operation: operation.clone(),
                address,
                nonce: account.next_nonce,
                statement,
            })
        })
        .await
    }

    /// An operation signed elsewhere, prepared ([`Wallet::prepare`]) and
    /// its signature checked against its statement at the head, so that
    /// nothing signed over other words is ever injected.
    pub async fn check_signed(&self, operation: SignedOperation) -> Result<Signed, WalletError> {
        let prepared = self.prepare(operation).await?;
        let key = match &prepared.operation.signer {
            Signer::Key(k) => Some(k.clone()),
            Signer::Index(_) => self.account(&prepared.address).await?.public_key,
        };
        if let Some(key) = key {
            if !key.verify(&prepared.statement.bytes(), &prepared.operation.signature) {
                return Err(WalletError::BadSignature {
                    nonce: prepared.nonce,
                    text: prepared.statement.text().to_owned(),
                });
            }
        }
        Ok(prepared)
    }

    /// Injects signed operations as one batch; with `wait`, waits for each
    /// receipt and fails if the protocol refused one.
    pub async fn submit(
        &self,
        ops: Vec<Signed>,
        wait: bool,
    ) -> Result<Vec<Submitted>, WalletError> {
        let hashes: Vec<[u8; 32]> = ops.iter().map(Signed::hash).collect();
        let batch = Batch {
            operations: pledgeroll_contracts::encoding::List::new(
                ops.into_iter().map(|s| s.operation).collect(),
            )
            .map_err(|_| WalletError::TooLarge(usize::MAX))?,
        };
        let message = frame(&self.rollup, &batch)?;
        let before = self.node.level("head").await?;
        self.node.inject(&[message]).await?;
        let mut out = Vec::new();
        for hash in hashes {
            if !wait {
                out.push(Submitted {
                    hash: hex::encode(hash),
                    level: None,
                    receipt: None,
                });
                continue;
            }
            let (level, receipt) = self
                .node
                .wait_receipt(hash, before, Duration::from_secs(60))
                .await?;
            if let Outcome::Failed { reason } = &receipt.outcome {
                return Err(WalletError::Refused(reason.as_str().to_owned()));
            }
            out.push(Submitted {
                hash: hex::encode(hash),
                level: Some(level),
                receipt: Some(receipt),
            });
        }
        Ok(out)
    }

    /// Signs and submits one operation.
    pub async fn send(
        &self,
        key: &SecretKey,
        op: Operation,
        wait: bool,
    ) -> Result<Submitted, WalletError> {
        let signed = self.sign(key, op).await?;
        let mut done = self.submit(vec![signed], wait).await?;
        done.pop().ok_or(WalletError::Refused("no receipt".into()))
    }
}

/// A pledge that would leave its patron's balance for less than this earns
/// a warning before it is signed.
pub const SOON_DRY: u64 = 7 * DAY;

/// Most rounds of fetching one statement may take.
const MAX_FETCH_ROUNDS: usize = 512;

/// Who signs, as a signer outside the wallet is known: by public key, or
/// by address alone (then only once the rollup knows its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyOrAddress {
    /// Its public key.
    Key(PublicKey),
    /// Its address.
    Address(Address),
}

impl PublicKeyOrAddress {
    /// The account.
    pub fn address(&self) -> Address {
        match self {
            PublicKeyOrAddress::Key(k) => k.address(),
            PublicKeyOrAddress::Address(a) => *a,
        }
    }
}

/// The signed operation an unsigned one (a signer then an operation, as
/// [`Unsigned::encoded`] writes them) makes with `signature`; with
/// `public_key`, signed by that key (revealing it) instead.
pub fn assemble(
    unsigned: &[u8],
    signature: Signature,
    public_key: Option<PublicKey>,
) -> Result<SignedOperation, WalletError> {
    let malformed =
        |e: DecodeError| WalletError::Malformed(format!("not an unsigned operation: {e}"));
    let mut r = Reader::new(unsigned);
    let signer: Signer = r.get().map_err(malformed)?;
    let operation: Operation = r.get().map_err(malformed)?;
    r.finish().map_err(malformed)?;
    Ok(SignedOperation {
        signer: public_key.map_or(signer, Signer::Key),
        operation,
        signature,
    })
}

/// An operation ready for a signer outside the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsigned {
    /// The signer's account.
    pub address: Address,
    /// The nonce the statement names.
    pub nonce: u64,
    /// The signer as the operation names it; `None` for an account the
    /// rollup does not know yet and whose public key is not at hand.
    pub signer: Option<Signer>,
    /// What to sign.
    pub statement: Statement,
}

impl Unsigned {
    /// `op` unsigned: its signer then the operation, as a signed operation
    /// starts (what [`assemble`] takes back); `None` while the signer is
    /// not known ([`Unsigned::signer`]).
    pub fn encoded(&self, op: &Operation) -> Option<Vec<u8>> {
        let mut bytes = self.signer.as_ref()?.to_bytes();
        bytes.extend(op.to_bytes());
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::Decode;

    #[test]
    fn a_frame_is_the_targeted_tag_the_rollup_and_the_batch() {
        let rollup = RollupAddress([7; 20]);
        let key: SecretKey = "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh"
            .parse()
            .expect("valid");
        let op = SignedOperation {
            signer: Signer::Key(key.public_key()),
            operation: Operation::PauseCreator,
            signature: key.sign(b"a statement"),
        };
        let mut batch = Batch::default();
        batch.operations.push(op);
        let framed = frame(&rollup, &batch).expect("fits");
        assert_eq!(framed[0], 0);
        assert_eq!(&framed[1..21], &rollup.0);
        assert_eq!(Batch::from_bytes(&framed[21..]), Ok(batch));
    }
}
