//! The builder and relay a web page signs through: it describes an
//! operation in people's terms, the directory makes the bytes a wallet
//! signs, and relays the signed operation to the rollup node it is
//! configured with.
//!
//! The bytes are made by the `contracts` crate, the kernel's own code, from
//! the node's state at the head ([`pledgeroll_client::Wallet::unsigned`]);
//! what the wallet signs is a sentence stating the operation, so a page
//! (or a directory) that sent other bytes than it showed would get a
//! signature for the words the wallet showed, never for anything else.
//! Before relaying, the signature is checked against the statement at the
//! head, so a signature over other words is refused here rather than in a
//! receipt.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use pledgeroll_client::{
    assemble, AssetBook, PublicKeyOrAddress, Request, RequestError, Wallet, WalletError,
};
use pledgeroll_contracts::{PublicKey, Signature, Signer};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use utoipa::ToSchema;

use super::api::ApiError;
use super::{Error, Shared};

/// The Tezos networks a Beacon wallet can be asked to connect for (its
/// `NetworkType`s).
pub const WALLET_NETWORKS: [&str; 5] = ["mainnet", "ghostnet", "shadownet", "weeklynet", "custom"];

/// The rollup node operations are built against and relayed to.
#[derive(Debug)]
pub struct Relay {
    url: String,
    network: &'static str,
    wallet: OnceCell<Wallet>,
}

impl Relay {
    /// A relay to the node at `url`, connected on first use; wallets
    /// connect for mainnet.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            network: WALLET_NETWORKS[0],
            wallet: OnceCell::new(),
        }
    }

    /// The same relay with wallets connecting for `network`, one of
    /// [`WALLET_NETWORKS`].
    pub fn for_network(mut self, network: &str) -> Result<Self, Error> {
        self.network = WALLET_NETWORKS
            .into_iter()
            .find(|n| *n == network)
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown wallet network `{network}`; one of {}",
                    WALLET_NETWORKS.join(", ")
                ))
            })?;
        Ok(self)
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The Tezos network Beacon wallets are asked to connect for. Signing
    /// a statement does not depend on it; the wallet shows it.
    pub fn network(&self) -> &str {
        self.network
    }

    /// The wallet over the node, connecting the first time.
    async fn wallet(&self) -> Result<&Wallet, Error> {
        self.wallet
            .get_or_try_init(|| Wallet::connect(&self.url, AssetBook::default()))
            .await
            .map_err(|e| node_error(&self.url, &e))
    }
}

/// The routes under `/api/v1/operations`.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/operations/build", post(build))
        .route("/operations/submit", post(submit))
}

/// What to build: an operation and who signs it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildRequest {
    /// The signer: its public key (`edpk…`, `sppk…`, `p2pk…`), needed on
    /// an account's first operation, or its address once the rollup knows
    /// its key.
    pub signer: String,
    /// The operation in people's terms: `{"kind": "pledge", "tier": 7,
    /// "amount": "8 tez", "until": "2027-03-01", "cap": "50 tez"}`; every
    /// kind and field is in docs/wallets.md.
    #[schema(value_type = Object)]
    pub operation: Request,
}

/// What a wallet signs, and what to send back with the signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct Built {
    /// The words the wallet shows and the signer agrees to.
    pub text: String,
    /// The bytes to sign, hex: the text packed as a Michelson string
    /// (`0501…`), for `requestSignPayload` with `SigningType.MICHELINE`.
    pub bytes_to_sign: String,
    /// The operation without its signature, hex: what `submit` takes.
    pub unsigned: String,
    /// The nonce the text names.
    pub nonce: u64,
    /// The signer's address.
    pub signer: String,
    /// Whether this operation reveals the signer's public key.
    pub reveal: bool,
    /// The rollup's address.
    pub rollup: String,
    /// Something the signer should know first, in words: a pledge that
    /// would soon run their balance dry.
    pub warning: Option<String>,
}

/// A signed operation to relay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// `unsigned` from the build answer, hex.
    pub unsigned: String,
    /// The wallet's signature (`edsig…`, `spsig1…`, `p2sig…` or `sig…`).
    pub signature: String,
    /// The signer's public key, when the operation reveals it.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// A relayed operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Relayed {
    /// Its hash (receipt id): follow it at `/api/v1/operations/{hash}`.
    pub hash: String,
    /// The nonce it uses.
    pub nonce: u64,
}

/// `POST /api/v1/operations/build`.
#[utoipa::path(post, path = "/api/v1/operations/build", tag = "wallet", request_body = BuildRequest,
    responses((status = 200, description = "The words and bytes to sign", body = Built),
        (status = 400, description = "The operation does not read, or names nothing", body = super::api::ErrorBody),
        (status = 502, description = "The rollup node failed", body = super::api::ErrorBody),
        (status = 503, description = "This directory relays no operations", body = super::api::ErrorBody)))]
pub async fn build(
    State(s): State<Shared>,
    body: Result<Json<BuildRequest>, JsonRejection>,
) -> Result<Json<Built>, ApiError> {
    let Json(body) = body.map_err(bad_json)?;
    let relay = relay(&s)?;
    let w = relay.wallet().await?;
    let signer = signer(&body.signer)?;
    let address = signer.address();
    let op = body
        .operation
        .operation(w, &address)
        .await
        .map_err(|e| request_error(relay.url(), e))?;
    let unsigned = w
        .unsigned(&signer, &op)
        .await
        .map_err(|e| wallet_error(relay.url(), e))?;
    let warning = w
        .soon_dry(&address, &op)
        .await
        .map_err(|e| wallet_error(relay.url(), e))?;
    let encoded = unsigned.encoded(&op).ok_or_else(|| {
        Error::BadRequest(format!(
            "the rollup does not know {address}'s public key yet: send the public key as the signer"
        ))
    })?;
    Ok(Json(Built {
        text: unsigned.statement.text().to_owned(),
        bytes_to_sign: hex::encode(unsigned.statement.bytes()),
        unsigned: hex::encode(encoded),
        nonce: unsigned.nonce,
        signer: address.to_string(),
        reveal: matches!(unsigned.signer, Some(Signer::Key(_))),
        rollup: w.rollup.to_string(),
        warning,
    }))
}

/// `POST /api/v1/operations/submit`.
#[utoipa::path(post, path = "/api/v1/operations/submit", tag = "wallet", request_body = SubmitRequest,
    responses((status = 202, description = "Relayed to the rollup node; follow its receipt", body = Relayed),
        (status = 400, description = "Malformed, or the signature is not over the operation's words", body = super::api::ErrorBody),
        (status = 502, description = "The rollup node failed", body = super::api::ErrorBody),
        (status = 503, description = "This directory relays no operations", body = super::api::ErrorBody)))]
pub async fn submit(
    State(s): State<Shared>,
    body: Result<Json<SubmitRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Relayed>), ApiError> {
    let Json(body) = body.map_err(bad_json)?;
    let relay = relay(&s)?;
    let w = relay.wallet().await?;
    let unsigned = hex::decode(body.unsigned.trim().trim_start_matches("0x"))
        .map_err(|_| Error::BadRequest("`unsigned` is not hex".to_owned()))?;
    let signature: Signature = body
        .signature
        .trim()
        .parse()
        .map_err(|e| Error::BadRequest(format!("`signature` is not a Tezos signature: {e}")))?;
    let public_key = body
        .public_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            k.parse::<PublicKey>()
                .map_err(|e| Error::BadRequest(format!("`public_key` is not a public key: {e}")))
        })
        .transpose()?;
    let operation =
        assemble(&unsigned, signature, public_key).map_err(|e| wallet_error(relay.url(), e))?;
    let checked = w
        .check_signed(operation)
        .await
        .map_err(|e| wallet_error(relay.url(), e))?;
    let nonce = checked.nonce;
    let sent = w
        .submit(vec![checked], false)
        .await
        .map_err(|e| wallet_error(relay.url(), e))?;
    let hash = sent
        .into_iter()
        .next()
        .map(|s| s.hash)
        .ok_or_else(|| Error::Internal("the relay sent nothing".to_owned()))?;
    Ok((StatusCode::ACCEPTED, Json(Relayed { hash, nonce })))
}

/// The relay, or why there is none.
fn relay(s: &Shared) -> Result<&Relay, Error> {
    s.relay.as_ref().ok_or_else(|| {
        Error::Unavailable(
            "this directory relays no operations: it was started without a rollup node (--node)"
                .to_owned(),
        )
    })
}

/// The signer as a public key or an address.
fn signer(text: &str) -> Result<PublicKeyOrAddress, Error> {
    let text = text.trim();
    if let Ok(k) = text.parse::<PublicKey>() {
        return Ok(PublicKeyOrAddress::Key(k));
    }
    text.parse().map(PublicKeyOrAddress::Address).map_err(|_| {
        Error::BadRequest(format!(
            "the signer `{text}` is neither a public key nor a tz1, tz2 or tz3 address"
        ))
    })
}

fn bad_json(e: JsonRejection) -> Error {
    Error::BadRequest(e.body_text())
}

fn request_error(url: &str, e: RequestError) -> Error {
    match e {
        RequestError::Wallet(w) => wallet_error(url, w),
        other => Error::BadRequest(other.to_string()),
    }
}

fn wallet_error(url: &str, e: WalletError) -> Error {
    match e {
        WalletError::Node(_) | WalletError::State(_) => node_error(url, &e),
        other => Error::BadRequest(other.to_string()),
    }
}

fn node_error(url: &str, e: &WalletError) -> Error {
    Error::Upstream(format!("the rollup node at {url} failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallets_connect_for_a_network_beacon_knows() {
        assert_eq!(Relay::new("http://127.0.0.1:8932/").network(), "mainnet");
        assert_eq!(
            Relay::new("http://127.0.0.1:8932/").url(),
            "http://127.0.0.1:8932"
        );
        let ghostnet = Relay::new("http://node").for_network("ghostnet");
        assert_eq!(
            ghostnet.map(|r| r.network().to_owned()).ok().as_deref(),
            Some("ghostnet")
        );
        let unknown = Relay::new("http://node").for_network("moonnet");
        assert!(unknown.is_err_and(|e| e.to_string().contains("unknown wallet network `moonnet`")));
    }
}
