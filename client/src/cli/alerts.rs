//! `pledgeroll alerts`: subscribe to an account's alerts at a directory, list
//! the subscriptions with their deliveries, stop one. Each request is a
//! message the account signs (under the `pledgeroll-alerts` tag, never an
//! operation), naming the directory and the time.

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use pledgeroll_contracts::off_rollup::{alerts_statement, AlertChannel, AlertsRequest};
use rand::RngCore;
use serde_json::{json, Value};

use super::context::Ctx;

/// The runway warning directories send, days before a balance runs out.
const RUNWAY_DAYS: u16 = 7;

/// `pledgeroll alerts …`
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Have a directory post the account's alerts to a webhook, signed
    /// with a secret (one is made and printed if you give none).
    Add {
        /// The key signing the request; its account's alerts are sent.
        #[arg(long = "as")]
        signer: String,
        /// The directory's public URL, as it names itself.
        #[arg(long)]
        directory: String,
        /// Where alerts are posted.
        #[arg(long)]
        webhook: String,
        /// Only alerts of this kind (repeatable): pledge_started,
        /// tip_received, pledge_ran_dry, runway_low, invoice_raised…
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// The secret webhook bodies are signed with (16 to 128 characters).
        #[arg(long)]
        secret: Option<String>,
    },
    /// List the account's subscriptions at a directory and their latest
    /// deliveries.
    List {
        /// The key signing the request.
        #[arg(long = "as")]
        signer: String,
        /// The directory's public URL.
        #[arg(long)]
        directory: String,
    },
    /// Stop one of the account's subscriptions.
    Remove {
        /// The key signing the request.
        #[arg(long = "as")]
        signer: String,
        /// The directory's public URL.
        #[arg(long)]
        directory: String,
        /// The subscription's number.
        subscription: u64,
    },
}

/// Runs an alerts command.
pub async fn run(ctx: &Ctx, command: AlertsCommand) -> Result<()> {
    match command {
        AlertsCommand::Add {
            signer,
            directory,
            webhook,
            mut kinds,
            secret,
        } => {
            kinds.sort_unstable();
            kinds.dedup();
            let made_secret = secret.is_none();
            let secret = secret.unwrap_or_else(new_secret);
            let request = AlertsRequest::Subscribe {
                channel: AlertChannel::Webhook {
                    url: webhook.clone(),
                },
                kinds: kinds.clone(),
                runway_days: RUNWAY_DAYS,
            };
            let extra = json!({ "webhook": webhook, "kinds": kinds, "runway_days": RUNWAY_DAYS, "secret": secret });
            let answer = ask(ctx, &signer, &directory, "subscribe", &request, extra).await?;
            let made = answer.pointer("/subscriptions/0").unwrap_or(&Value::Null);
            let mut text =
                format!(
                "subscription {} at {directory}: alerts of {} posted to {webhook} from level {}",
                field(made, "subscription"), field(made, "account"), field(made, "from_level")
            );
            if made_secret {
                text.push_str(&format!(
                    "\nwebhook secret (check each body's Pledgeroll-Signature with it): {secret}"
                ));
            }
            ctx.print(text, json!({ "subscription": made, "secret": secret }));
        }
        AlertsCommand::List { signer, directory } => {
            let answer = ask(
                ctx,
                &signer,
                &directory,
                "list",
                &AlertsRequest::List,
                json!({}),
            )
            .await?;
            let mut lines = Vec::new();
            for s in field(&answer, "subscriptions")
                .as_array()
                .into_iter()
                .flatten()
            {
                let stopped = if field(s, "stopped_at").is_null() {
                    ""
                } else {
                    " (stopped)"
                };
                lines.push(format!(
                    "subscription {}: {} to {}{stopped}",
                    field(s, "subscription"),
                    field(s, "channel").as_str().unwrap_or_default(),
                    field(s, "target").as_str().unwrap_or_default()
                ));
                for d in field(s, "deliveries").as_array().into_iter().flatten() {
                    lines.push(format!(
                        "  alert {}: {} after {} attempt(s){}",
                        field(d, "alert").as_str().unwrap_or_default(),
                        field(d, "status").as_str().unwrap_or_default(),
                        field(d, "attempts"),
                        field(d, "last_result")
                            .as_str()
                            .map(|r| format!(", last: {r}"))
                            .unwrap_or_default()
                    ));
                }
            }
            if lines.is_empty() {
                lines.push(format!("no alert subscriptions at {directory}"));
            }
            ctx.print(lines.join("\n"), answer);
        }
        AlertsCommand::Remove {
            signer,
            directory,
            subscription,
        } => {
            let request = AlertsRequest::Unsubscribe { subscription };
            let extra = json!({ "subscription": subscription });
            let answer = ask(ctx, &signer, &directory, "stop", &request, extra).await?;
            ctx.print(
                format!("subscription {subscription} at {directory} stopped"),
                answer,
            );
        }
    }
    Ok(())
}

/// A field of a JSON answer, null when absent.
fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// A webhook secret: 32 random hex digits.
fn new_secret() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Signs `request` as `signer` for `directory` now, sends it with `extra`
/// fields, and returns the directory's answer.
async fn ask(
    ctx: &Ctx,
    signer: &str,
    directory: &str,
    action: &str,
    request: &AlertsRequest,
    extra: Value,
) -> Result<Value> {
    let directory = directory.trim_end_matches('/');
    let key = ctx.key(signer)?;
    let public_key = key.public_key();
    let signed_at = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs(),
    )?;
    let words = alerts_statement(directory, &public_key.address(), request, signed_at);
    eprintln!("signing: {}", words.text());
    let signature = key.sign(&words.bytes());
    let mut body = json!({
        "action": action,
        "public_key": public_key.to_string(),
        "signed_at": signed_at,
        "signature": signature.to_string(),
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let url = format!("{directory}/api/v1/alerts/subscriptions");
    let answer = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach the directory at {url}"))?;
    let status = answer.status();
    let value: Value = answer
        .json()
        .await
        .map_err(|e| anyhow!("the directory's answer is not JSON ({e})"))?;
    if !status.is_success() {
        bail!(
            "the directory refused ({status}): {}",
            field(&value, "error").as_str().unwrap_or("no reason given")
        );
    }
    Ok(value)
}
