//! Sending operations: the options every sending command shares, signing
//! and sending (or only printing, with `--dry-run`), and the offline pair
//! `sign` and `submit`.

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use pledgeroll_client::{PublicKeyOrAddress, Submitted, Wallet};
use pledgeroll_contracts::encoding::Reader;
use pledgeroll_contracts::statement::Statement;
use pledgeroll_contracts::{
    Created, Decode, Encode, Operation, Signature, SignedOperation, Signer,
};
use serde_json::json;

use super::context::Ctx;
use super::output::{add_created, created_line};

/// How an operation is sent: by which key, and whether at all.
#[derive(Args, Clone)]
pub struct Send {
    /// The signing key's name.
    #[arg(long = "as")]
    pub signer: String,
    /// Print the operation and the bytes to sign; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for the receipt.
    #[arg(long)]
    pub no_wait: bool,
}

/// Sends `op` as `send.signer`, or prints it with `--dry-run`.
pub async fn run_op(ctx: &Ctx, w: &Wallet, send: &Send, op: Operation) -> Result<()> {
    if send.dry_run {
        return dry_run(ctx, w, &ctx.signer(&send.signer)?, &op).await;
    }
    let key = ctx.key(&send.signer)?;
    let done = w.send(&key, op, !send.no_wait).await?;
    match done.level {
        Some(level) => {
            let created = created(&done);
            let mut value = json!({ "status": "applied", "level": level, "hash": done.hash });
            add_created(created, &mut value);
            ctx.print(
                format!("{} (operation {})", created_line(created, level), done.hash),
                value,
            );
        }
        None => ctx.print(
            format!(
                "sent (operation {}); not waiting for the receipt",
                done.hash
            ),
            json!({ "status": "sent", "hash": done.hash }),
        ),
    }
    Ok(())
}

/// Prints `op` as `address` would sign it next, for a signer outside the
/// wallet: the statement's words, the bytes to sign and the unsigned
/// operation to give `submit --unsigned` with the signature.
async fn dry_run(ctx: &Ctx, w: &Wallet, signer: &PublicKeyOrAddress, op: &Operation) -> Result<()> {
    let unsigned = w.unsigned(signer, op).await?;
    let bytes = unsigned.statement.bytes();
    let unsigned_hex = unsigned.signer.as_ref().map(|s| unsigned_hex(s, op));
    ctx.print(
        format!(
            "{}\nnonce: {}\nbytes to sign: {}\nunsigned: {}",
            unsigned.statement.text(),
            unsigned.nonce,
            hex::encode(&bytes),
            unsigned_hex.as_deref().unwrap_or(
                "(the rollup does not know this account's key: add it with its public key)"
            ),
        ),
        json!({
            "text": unsigned.statement.text(),
            "bytes_to_sign": hex::encode(bytes),
            "unsigned": unsigned_hex,
            "nonce": unsigned.nonce,
            "signer": unsigned.address.to_string(),
            "reveal": matches!(unsigned.signer, Some(Signer::Key(_))),
            "rollup": w.rollup.to_string(),
        }),
    );
    Ok(())
}

/// The unsigned form of an operation: its signer then the operation, as a
/// signed operation starts.
fn unsigned_hex(signer: &Signer, op: &Operation) -> String {
    let mut bytes = signer.to_bytes();
    bytes.extend(op.to_bytes());
    hex::encode(bytes)
}

/// What a submitted operation created, as its receipt says.
fn created(done: &Submitted) -> Option<Created> {
    done.receipt.as_ref().and_then(|r| r.outcome.created())
}

/// `pledgeroll sign`: signs bytes to sign (hex, from `--dry-run`) offline,
/// after printing the statement they hold.
pub fn sign(ctx: &Ctx, signer: &str, bytes: &str) -> Result<()> {
    let key = ctx.key(signer)?;
    let bytes = hex::decode(bytes.trim_start_matches("0x")).context("the bytes are not hex")?;
    let statement = Statement::from_bytes(&bytes).ok_or_else(|| {
        anyhow!("these bytes are not a pledgeroll statement (a packed Michelson string); nothing signed")
    })?;
    eprintln!("signing: {}", statement.text());
    let signature = key.sign(&bytes);
    ctx.print(
        signature,
        json!({ "text": statement.text(), "signature": signature.to_string() }),
    );
    Ok(())
}

/// An operation signed outside the wallet.
pub enum Elsewhere {
    /// A whole signed operation, hex.
    Signed(String),
    /// An unsigned operation (hex, from `--dry-run`), its signature, and
    /// the public key to reveal with it.
    Unsigned {
        /// The unsigned operation, hex.
        unsigned: String,
        /// The signature.
        signature: String,
        /// The public key, for an account's first operation.
        public_key: Option<String>,
    },
}

impl Elsewhere {
    /// The signed operation it makes.
    fn assemble(self) -> Result<SignedOperation> {
        match self {
            Elsewhere::Signed(hex_signed) => {
                let bytes = hex::decode(hex_signed.trim_start_matches("0x"))
                    .context("the signed operation is not hex")?;
                SignedOperation::from_bytes(&bytes)
                    .map_err(|e| anyhow!("not a signed operation: {e}"))
            }
            Elsewhere::Unsigned {
                unsigned,
                signature,
                public_key,
            } => {
                let bytes = hex::decode(unsigned.trim_start_matches("0x"))
                    .context("the unsigned operation is not hex")?;
                let mut r = Reader::new(&bytes);
                let signer: Signer = r
                    .get()
                    .map_err(|e| anyhow!("not an unsigned operation: {e}"))?;
                let operation: Operation = r
                    .get()
                    .map_err(|e| anyhow!("not an unsigned operation: {e}"))?;
                r.finish()
                    .map_err(|e| anyhow!("not an unsigned operation: {e}"))?;
                let signature: Signature = signature
                    .parse()
                    .map_err(|e| anyhow!("not a signature: {e}"))?;
                let signer = match public_key {
                    None => signer,
                    Some(pk) => {
                        Signer::Key(pk.parse().map_err(|e| anyhow!("not a public key: {e}"))?)
                    }
                };
                Ok(SignedOperation {
                    signer,
                    operation,
                    signature,
                })
            }
        }
    }
}

/// `pledgeroll submit`: sends an operation signed elsewhere, after checking
/// its signature against its statement at the head.
pub async fn submit(ctx: &Ctx, from: Elsewhere, no_wait: bool) -> Result<()> {
    let w = ctx.wallet().await?;
    let prepared = w.prepare(from.assemble()?).await?;
    let key = match &prepared.operation.signer {
        Signer::Key(k) => Some(k.clone()),
        Signer::Index(_) => w.account(&prepared.address).await?.public_key,
    };
    if let Some(key) = key {
        if !key.verify(&prepared.statement.bytes(), &prepared.operation.signature) {
            bail!(
                "the signature is not over this operation's statement at nonce {}: {}",
                prepared.nonce,
                prepared.statement.text()
            );
        }
    }
    let done = w.submit(vec![prepared], !no_wait).await?;
    for d in done {
        let mut value = json!({ "hash": d.hash, "level": d.level });
        let line = match d.level {
            Some(level) => {
                let created = created(&d);
                add_created(created, &mut value);
                created_line(created, level)
            }
            None => "sent".to_owned(),
        };
        ctx.print(format!("operation {}: {line}", d.hash), value);
    }
    Ok(())
}
