//! Alert subscriptions through the directory, on SQLite and on Postgres:
//! asked for with messages the account signs, refused when the signature,
//! the time or the words are wrong, and sent by the indexer's notifier to a
//! webhook that checks their signature.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

#[path = "../../indexer/tests/common/mod.rs"]
mod common;
#[macro_use]
mod site;

use common::webhook::{receiver, SECRET};
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Holder, Operation};
use pledgeroll_indexer::notifier::{Notifier, NotifierConfig};
use pledgeroll_indexer::Backend;
use serde_json::{json, Value};
use site::{Site, ADA, BOB, TEZ};

impl Site {
    /// POSTs `body` to the API path; the status and the JSON answer.
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.directory.url()))
            .json(body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.expect("a JSON answer"))
    }
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs(),
    )
    .expect("fits")
}

/// `ask` signed by `key` for the account of `public`, through the
/// directory's own words.
async fn signed(site: &Site, key: &SecretKey, public: &SecretKey, mut ask: Value) -> Value {
    ask["public_key"] = json!(public.public_key().to_string());
    ask["signed_at"] = json!(now());
    let (status, words) = site.post("/api/v1/alerts/statement", &ask).await;
    assert_eq!(status, 200, "{words}");
    let bytes = hex::decode(words["bytes_to_sign"].as_str().expect("bytes")).expect("hex");
    ask["signature"] = json!(key.sign(&bytes).to_string());
    ask
}

async fn accounts_subscribe_by_signing_and_get_their_alerts(backend: Backend) {
    let mut site = Site::start(backend).await;
    let (ada_key, bob_key) = (site.s.keys[ADA].clone(), site.s.keys[BOB].clone());
    let (hook, seen) = receiver(0).await;
    let subscribe = json!({
        "action": "subscribe",
        "webhook": hook,
        "kinds": ["tip_received"],
        "secret": SECRET,
    });

    // The words name this directory, the account and the time.
    let mut ask = subscribe.clone();
    ask["public_key"] = json!(ada_key.public_key().to_string());
    let (_, words) = site.post("/api/v1/alerts/statement", &ask).await;
    let text = words["text"].as_str().expect("text");
    assert!(
        text.starts_with(&format!(
            "Tezos Signed Message: pledgeroll-alerts {} {}: subscribe to alerts tip_received by webhook to \"{hook}\"",
            site.directory.url(),
            site.addr(ADA)
        )),
        "{text}"
    );

    // Refused: another key's signature, an old time, an unknown kind.
    let forged = signed(&site, &bob_key, &ada_key, subscribe.clone()).await;
    let (status, answer) = site.post("/api/v1/alerts/subscriptions", &forged).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().expect("error").contains("is not"),
        "{answer}"
    );
    let mut old = signed(&site, &ada_key, &ada_key, subscribe.clone()).await;
    old["signed_at"] = json!(now() - 3_600);
    let (status, _) = site.post("/api/v1/alerts/subscriptions", &old).await;
    assert_eq!(status, 400);
    let mut unknown = subscribe.clone();
    unknown["kinds"] = json!(["gossip"]);
    unknown["public_key"] = json!(ada_key.public_key().to_string());
    let (status, answer) = site.post("/api/v1/alerts/statement", &unknown).await;
    assert_eq!(status, 400, "{answer}");

    // Subscribed; the same signed words are not taken twice.
    let good = signed(&site, &ada_key, &ada_key, subscribe.clone()).await;
    let (status, made) = site.post("/api/v1/alerts/subscriptions", &good).await;
    assert_eq!(status, 201, "{made}");
    let made = &made["subscriptions"][0];
    assert_eq!(made["account"], site.addr(ADA).as_str());
    assert_eq!(made["kinds"], json!(["tip_received"]));
    let (status, again) = site.post("/api/v1/alerts/subscriptions", &good).await;
    assert_eq!(status, 400, "{again}");

    // Bob tips ada: the notifier posts the alert, signed with the secret.
    site.advance(
        60,
        &[],
        vec![(
            BOB,
            Operation::Tip {
                to: Holder::Account(site.s.addr(ADA)),
                asset: TEZ,
                amount: 2_000_000,
                memo: Text::new("again".to_owned()).expect("short"),
            },
        )],
    )
    .await;
    let level = u32::try_from(site.s.script.levels.len()).expect("fits");
    let mirror = site.db.mirror().await;
    let notifier = Notifier::new(mirror.clone(), NotifierConfig::default()).expect("notifier");
    let report = notifier.round(level).await.expect("round");
    assert_eq!((report.queued, report.delivered), (1, 1), "{report:?}");
    let requests = seen.lock().expect("lock").requests.clone();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].1, "the signature verifies");
    assert!(
        requests[0].0.starts_with(&format!("{level}.")),
        "{requests:?}"
    );
    mirror.db().close().await;

    // The account lists its subscription and the delivery; bob cannot stop
    // it, ada can.
    let list = signed(&site, &ada_key, &ada_key, json!({ "action": "list" })).await;
    let (status, listed) = site.post("/api/v1/alerts/subscriptions", &list).await;
    assert_eq!(status, 200, "{listed}");
    let delivery = &listed["subscriptions"][0]["deliveries"][0];
    assert_eq!(delivery["status"], "delivered", "{listed}");
    assert_eq!(delivery["alert"], requests[0].0.as_str());
    let id = made["subscription"].as_i64().expect("id");
    let stop = json!({ "action": "stop", "subscription": id });
    let not_bobs = signed(&site, &bob_key, &bob_key, stop.clone()).await;
    let (status, _) = site.post("/api/v1/alerts/subscriptions", &not_bobs).await;
    assert_eq!(status, 400);
    let stopped = signed(&site, &ada_key, &ada_key, stop).await;
    let (status, answer) = site.post("/api/v1/alerts/subscriptions", &stopped).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["subscriptions"][0]["stopped_at"].is_i64(),
        "{answer}"
    );
    site.stop().await;
}
on_both!(accounts_subscribe_by_signing_and_get_their_alerts: sqlite_accounts_subscribe_by_signing, postgres_accounts_subscribe_by_signing);
