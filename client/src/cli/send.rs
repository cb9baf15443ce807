//! Sending operations: the options every sending command shares, signing
//! and sending (or only printing, with `--dry-run`), and the offline pair
//! `sign` and `submit`.

use anyhow::{anyhow, Context, Result};
use clap::Args;
use pledgeroll_client::{Submitted, Wallet};
use pledgeroll_contracts::{
    Address, Created, Decode, Encode, Operation, RollupAddress, SignedOperation,
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
    let key = ctx.key(&send.signer)?;
    let address = key.public_key().address();
    if send.dry_run {
        return dry_run(ctx, w, &address, &op).await;
    }
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

/// Prints `op` as `address` would sign it next, for offline signing.
async fn dry_run(ctx: &Ctx, w: &Wallet, address: &Address, op: &Operation) -> Result<()> {
    let account = w.account(address).await?;
    let bytes = w.bytes_to_sign(account.next_nonce, op);
    ctx.print(
        format!(
            "{op:?}\noperation: {}\nnonce: {}\nrollup: {}\nbytes to sign: 0x{}",
            hex::encode(op.to_bytes()),
            account.next_nonce,
            w.rollup,
            hex::encode(&bytes)
        ),
        json!({
            "operation": hex::encode(op.to_bytes()),
            "nonce": account.next_nonce,
            "reveal": account.public_key.is_none(),
            "rollup": w.rollup.to_string(),
            "bytes_to_sign": hex::encode(bytes),
        }),
    );
    Ok(())
}

/// What a submitted operation created, as its receipt says.
fn created(done: &Submitted) -> Option<Created> {
    done.receipt.as_ref().and_then(|r| r.outcome.created())
}

/// `pledgeroll sign`: signs an operation (hex, from `--dry-run`) offline.
pub fn sign(
    ctx: &Ctx,
    signer: &str,
    operation: &str,
    nonce: u64,
    rollup: &str,
    reveal: bool,
) -> Result<()> {
    let key = ctx.key(signer)?;
    let bytes =
        hex::decode(operation.trim_start_matches("0x")).context("the operation is not hex")?;
    let op = Operation::from_bytes(&bytes).map_err(|e| anyhow!("not an operation: {e}"))?;
    let rollup: RollupAddress = rollup.parse().map_err(|e| anyhow!("{e}"))?;
    let signed = key.sign_operation(&rollup, nonce, op, reveal);
    let hex_signed = hex::encode(signed.to_bytes());
    ctx.print(
        &hex_signed,
        json!({ "signed": hex_signed, "hash": hex::encode(signed.hash()) }),
    );
    Ok(())
}

/// `pledgeroll submit`: sends a signed operation (hex, from `sign`).
pub async fn submit(ctx: &Ctx, signed: &str, no_wait: bool) -> Result<()> {
    let w = ctx.wallet().await?;
    let bytes =
        hex::decode(signed.trim_start_matches("0x")).context("the signed operation is not hex")?;
    let op =
        SignedOperation::from_bytes(&bytes).map_err(|e| anyhow!("not a signed operation: {e}"))?;
    let done = w.submit(vec![op], !no_wait).await?;
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
