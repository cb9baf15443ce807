//! Sending operations: the options every sending command shares, signing
//! and sending (or only printing, with `--dry-run`), and the offline pair
//! `sign` and `submit`.

use anyhow::{anyhow, Context, Result};
use clap::Args;
use pledgeroll_client::{assemble, PublicKeyOrAddress, Request, Submitted, Wallet};
use pledgeroll_contracts::statement::Statement;
use pledgeroll_contracts::{Created, Decode, Operation, Signature, SignedOperation, Signer};
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

/// Sends the operation `request` makes as `send.signer`, or prints it with
/// `--dry-run`.
pub async fn run_request(ctx: &Ctx, w: &Wallet, send: &Send, request: &Request) -> Result<()> {
    let signer = ctx.signer(&send.signer)?.address();
    let op = request.operation(w, &signer).await?;
    run_op(ctx, w, send, op).await
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
    let unsigned_hex = unsigned.encoded(op).map(hex::encode);
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
                let signature: Signature = signature
                    .parse()
                    .map_err(|e| anyhow!("not a signature: {e}"))?;
                let public_key = public_key
                    .map(|pk| pk.parse().map_err(|e| anyhow!("not a public key: {e}")))
                    .transpose()?;
                Ok(assemble(&bytes, signature, public_key)?)
            }
        }
    }
}

/// `pledgeroll submit`: sends an operation signed elsewhere, after checking
/// its signature against its statement at the head.
pub async fn submit(ctx: &Ctx, from: Elsewhere, no_wait: bool) -> Result<()> {
    let w = ctx.wallet().await?;
    let prepared = w.check_signed(from.assemble()?).await?;
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
