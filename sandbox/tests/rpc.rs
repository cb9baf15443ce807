//! The sandbox over HTTP on 127.0.0.1, as the wallet and the indexer use it:
//! every answer is checked against the octez-smart-rollup-node OpenAPI
//! document.

#![allow(clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use futures_util::StreamExt;
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{AssetId, Contract, Operation, Outcome, Receipt};
use pledgeroll_interface::record::decode_list;
use pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS;
use pledgeroll_sandbox::assets::{TEZ, USD};
use pledgeroll_sandbox::{start, KernelSource};
use serde_json::json;

const RECEIPTS: &str = "/pledgeroll/level/receipts";

async fn receipts(api: &Api, block: &str) -> Vec<Receipt> {
    let bytes = api.durable(block, RECEIPTS).await.expect("a level record");
    decode_list(&bytes).expect("receipts decode")
}

#[tokio::test]
async fn a_signed_pledge_is_applied_a_level_later() {
    let (_dir, api, running) = wasm_sandbox().await;
    let (creator, patron) = (bootstrap(1), bootstrap(2));
    let setup = api
        .batch(vec![
            (&creator, profile("Ada")),
            (&creator, tier(2_592_000, 2_592_000)),
        ])
        .await;
    let ids = api.inject(&[setup]).await;
    let status = api
        .get(
            "/local/batcher/queue/{l2_message_id}",
            &format!("/local/batcher/queue/{}", ids[0]),
        )
        .await;
    assert_eq!(status["status"], "pending_batch");
    api.get("/local/batcher/queue", "/local/batcher/queue")
        .await;
    let level = api.produce().await;
    assert!(receipts(&api, "head")
        .await
        .iter()
        .all(|r| r.outcome.is_applied()));

    let pledge_key = "/pledgeroll/state/pledges/0";
    let before = api.durable("head", pledge_key).await;
    let pledge_batch = api.batch(vec![(&patron, pledge(0))]).await;
    let ids = api.inject(std::slice::from_ref(&pledge_batch)).await;
    let pledged = api.produce().await;
    assert_eq!(pledged, level + 1);
    let status = api
        .get(
            "/local/batcher/queue/{l2_message_id}",
            &format!("/local/batcher/queue/{}", ids[0]),
        )
        .await;
    assert_eq!(status["status"], "included");
    assert_eq!(status["layer1"]["level"], pledged);
    let applied = receipts(&api, &pledged.to_string()).await;
    assert_eq!(applied.len(), 1);
    assert!(applied[0].outcome.is_applied());
    assert_eq!(applied[0].signer, patron.public_key().address());
    assert_eq!(before, None);
    let after = api
        .durable(
            &pledged.to_string(),
            &format!(
                "/pledgeroll/state{}",
                pledgeroll_contracts::keys::pledge(pledgeroll_contracts::PledgeId(0))
            ),
        )
        .await;
    assert!(
        after.is_some(),
        "the pledge is in durable storage at its level"
    );
    // The level before still reads as it was.
    let earlier = api
        .durable(
            &level.to_string(),
            &format!(
                "/pledgeroll/state{}",
                pledgeroll_contracts::keys::pledge(pledgeroll_contracts::PledgeId(0))
            ),
        )
        .await;
    assert_eq!(earlier, None);

    // The same signed operation again is signed for a spent nonce: a
    // failed receipt.
    api.inject(&[pledge_batch]).await;
    api.produce().await;
    let replay = receipts(&api, "head").await;
    assert!(matches!(replay[0].outcome, Outcome::Failed { .. }));
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn deposits_and_withdrawals_round_trip_through_layer1() {
    let (_dir, api, running) = wasm_sandbox().await;
    let alice = key(11);
    let address = alice.public_key().address().to_string();
    api.post(
        None,
        "/sandbox/deposit",
        json!({ "receiver": address, "asset": "tez", "amount": 5_000_000 }),
    )
    .await;
    api.post(
        None,
        "/sandbox/deposit",
        json!({ "receiver": address, "asset": "usd", "amount": "7" }),
    )
    .await;
    api.produce().await;
    assert_eq!(api.balance("head", &alice, TEZ.asset_id).await, 5_000_000);
    assert_eq!(api.balance("head", &alice, USD.asset_id).await, 7);

    // Tickets to alice's vault contract, and tez to her own tz1: the outbox
    // calls only contracts, so that goes to the tez ticketer's `burn` (the
    // exchanger), which pays her.
    let vault = "KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc";
    let withdraw = |destination: Contract, entrypoint| pledgeroll_contracts::Operation::Withdraw {
        asset: AssetId(TEZ.asset_id),
        amount: 1_250_000,
        destination,
        entrypoint: Text::new(entrypoint).expect("short"),
    };
    let to_vault = withdraw(vault.parse().expect("a KT1"), "default");
    let to_tz1 = withdraw(Contract::Implicit(alice.public_key().address()), "burn");
    api.inject(&[api.batch(vec![(&alice, to_tz1), (&alice, to_vault)]).await])
        .await;
    let level = api.produce().await;
    let outcomes = receipts(&api, "head").await;
    assert!(outcomes.iter().all(|r| r.outcome.is_applied()));
    assert_eq!(api.balance("head", &alice, TEZ.asset_id).await, 2_500_000);
    let outbox = api
        .get(
            "/global/block/{block_id}/outbox/{level}/messages",
            &format!("/global/block/head/outbox/{level}/messages"),
        )
        .await;
    let messages = outbox.as_array().expect("a list");
    assert_eq!(messages.len(), 2);
    let first = &messages[0]["message"]["transactions"][0];
    assert_eq!(first["destination"], TEZ.ticketer);
    assert_eq!(first["entrypoint"], "burn");
    assert_eq!(
        messages[1]["message"]["transactions"][0]["destination"],
        vault
    );
    let block = api
        .get(
            "/global/block/{block_id}",
            &format!("/global/block/{level}?outbox=true"),
        )
        .await;
    assert_eq!(block["outbox"].as_array().map(Vec::len), Some(2));

    let l1 = api
        .get_raw(&format!("/sandbox/l1/balances?holder={vault}"))
        .await;
    assert_eq!(
        l1,
        json!([{
            "holder": vault, "ticketer": TEZ.ticketer, "token_id": 0, "metadata": hex::encode(b"tez:6"),
            "asset": "tez", "amount": "1250000",
        }])
    );
    let tz1 = api
        .get_raw(&format!("/sandbox/l1/balances?holder={address}"))
        .await;
    assert_eq!(
        tz1,
        json!([{
            "holder": address, "ticketer": TEZ.ticketer, "token_id": 0, "metadata": hex::encode(b"tez:6"),
            "asset": "tez", "amount": "1250000",
        }])
    );

    // Deposits the sandbox cannot make are refused whole.
    let (status, err) = api
        .request(
            "POST",
            "/sandbox/deposit",
            Some(json!({ "receiver": address, "asset": "eur", "amount": 1 })),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err[0]["kind"], "permanent");
    let (status, _) = api
        .request(
            "POST",
            "/sandbox/deposit",
            Some(json!({ "receiver": address, "asset": "tez", "amount": 0 })),
        )
        .await;
    assert_eq!(status, 400);
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn advancing_time_moves_stream_balances() {
    let (_dir, api, running) = wasm_sandbox().await;
    let (creator, patron) = (bootstrap(1), bootstrap(2));
    // One mutez a second.
    api.inject(&[api
        .batch(vec![
            (&creator, profile("Ada")),
            (&creator, tier(86_400, 86_400)),
        ])
        .await])
        .await;
    api.produce().await;
    api.inject(&[api.batch(vec![(&patron, pledge(0))]).await])
        .await;
    let pledged = api.produce().await;
    let start = api
        .balance(&pledged.to_string(), &creator, TEZ.asset_id)
        .await;
    let advanced = api
        .post(None, "/sandbox/advance-time", json!({ "days": 1 }))
        .await;
    let info = api.get_raw("/sandbox/info").await;
    assert_eq!(advanced["next_timestamp"], info["next_timestamp"]);
    // A level's kernel runs at its predecessor's time (the info-per-level
    // message), so the jump shows one level after the block that has it.
    api.produce().await;
    let next = api.produce().await;
    let end = api.balance(&next.to_string(), &creator, TEZ.asset_id).await;
    // A day, and a second between each of the three blocks.
    assert_eq!(end - start, 86_402);
    let patron_end = api.balance(&next.to_string(), &patron, TEZ.asset_id).await;
    let bootstrap_funds = u128::from(TEZ.bootstrap_amount);
    assert_eq!(bootstrap_funds - patron_end, end - bootstrap_funds);
    let (status, _) = api
        .request(
            "POST",
            "/sandbox/advance-time",
            Some(json!({ "seconds": -5 })),
        )
        .await;
    assert_eq!(status, 400);
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn a_restarted_sandbox_reads_the_same_state_hash() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let kernel = KernelSource::Wasm(kernel_wasm());
    let running = start(config(dir.path(), kernel.clone()))
        .await
        .expect("starts");
    let api = Api::new(&running.url());
    api.inject(&[api.batch(vec![(&bootstrap(3), profile("Bo"))]).await])
        .await;
    let level = api.produce().await;
    let hash = api.state_hash("head").await;
    let block_hash = api
        .get("/global/block/{block_id}/hash", "/global/block/head/hash")
        .await;
    running.stop().await.expect("stops");

    let running = start(config(dir.path(), kernel)).await.expect("restarts");
    let api = Api::new(&running.url());
    assert_eq!(api.head().await, level);
    assert_eq!(api.state_hash("head").await, hash);
    assert_eq!(
        api.get("/global/block/{block_id}/hash", "/global/block/head/hash")
            .await,
        block_hash
    );
    // It goes on from there: nonce 1 is the next one.
    api.inject(&[api.batch(vec![(&bootstrap(3), profile("Bob"))]).await])
        .await;
    api.produce().await;
    assert!(receipts(&api, "head").await[0].outcome.is_applied());
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn wasm_and_native_modes_agree_on_state_hashes() {
    let (_wdir, wasm, wasm_running) = wasm_sandbox().await;
    let (_ndir, native, native_running) = sandbox(KernelSource::Native).await;
    let rollup = wasm.rollup().await;
    assert_eq!(native.rollup().await, rollup);
    let (creator, patron, other) = (bootstrap(1), bootstrap(2), key(7));
    // Each round's operations, signed over the wasm sandbox's state (the
    // native one holds the same, as checked after every round), and raw
    // messages beside them.
    type Round<'a> = (Vec<(&'a SecretKey, Operation)>, Vec<Vec<u8>>);
    let rounds: Vec<Round> = vec![
        (
            vec![(&creator, profile("Ada")), (&creator, tier(1_000, 60))],
            vec![],
        ),
        (vec![(&patron, pledge(0))], vec![vec![0xde, 0xad]]),
        (vec![], vec![]),
        (vec![(&other, pledge(0))], vec![]),
    ];
    assert_eq!(
        wasm.state_hash("head").await,
        native.state_hash("head").await
    );
    for (ops, raw) in rounds {
        let mut round = Vec::new();
        if !ops.is_empty() {
            round.push(wasm.batch(ops).await);
        }
        round.extend(raw);
        for api in [&wasm, &native] {
            if !round.is_empty() {
                api.inject(&round).await;
            }
            api.post(None, "/sandbox/deposit", json!({ "receiver": other.public_key().address().to_string(), "asset": "usd", "amount": 3 }))
                .await;
            api.produce().await;
        }
        assert_eq!(
            wasm.state_hash("head").await,
            native.state_hash("head").await
        );
        assert_eq!(
            wasm.durable("head", RECEIPTS).await,
            native.durable("head", RECEIPTS).await
        );
    }
    // Only the wasm mode meters ticks.
    let ticks = wasm
        .get("/global/block/{block_id}/ticks", "/global/block/head/ticks")
        .await;
    assert!(
        ticks
            .as_str()
            .expect("a number")
            .parse::<u64>()
            .expect("a number")
            > 0
    );
    wasm_running.stop().await.expect("stops");
    native_running.stop().await.expect("stops");
}

#[tokio::test]
async fn blocks_durable_storage_and_node_info_follow_the_octez_shapes() {
    let (_dir, api, running) = wasm_sandbox().await;
    let head = api.head().await;
    let block = api
        .get("/global/block/{block_id}", "/global/block/head")
        .await;
    assert_eq!(block["level"], head);
    let by_hash = api
        .get(
            "/global/block/{block_id}",
            &format!(
                "/global/block/{}",
                block["block_hash"].as_str().expect("hash")
            ),
        )
        .await;
    assert_eq!(by_hash, block);
    api.get("/global/block/{block_id}", "/global/block/finalized")
        .await;
    api.get(
        "/global/block/{block_id}/total_ticks",
        "/global/block/head/total_ticks",
    )
    .await;
    api.get(
        "/global/block/{block_id}/num_messages",
        "/global/block/head/num_messages",
    )
    .await;
    api.get("/global/tezos_head", "/global/tezos_head").await;
    api.get("/global/tezos_level", "/global/tezos_level").await;
    api.get("/health", "/health").await;
    api.get("/version", "/version").await;
    let subkeys = api
        .get(
            "/global/block/{block_id}/durable/wasm_2_0_0/subkeys",
            "/global/block/head/durable/wasm_2_0_0/subkeys?key=/pledgeroll",
        )
        .await;
    assert!(subkeys
        .as_array()
        .expect("a list")
        .contains(&json!("state")));
    let length = api
        .get(
            "/global/block/{block_id}/durable/wasm_2_0_0/length",
            "/global/block/head/durable/wasm_2_0_0/length?key=/pledgeroll/level/state_hash",
        )
        .await;
    assert_eq!(length, json!("32"));
    let missing = api
        .get(
            "/global/block/{block_id}/durable/wasm_2_0_0/length",
            "/global/block/head/durable/wasm_2_0_0/length?key=/nothing/here",
        )
        .await;
    assert_eq!(missing, json!(null));
    // The code is in durable storage, as on a rollup node.
    let code = api
        .durable("head", "/kernel/boot.wasm")
        .await
        .expect("the kernel's code");
    assert_eq!(code, kernel_wasm());

    // Every bootstrap account holds its starting funds.
    for (i, account) in BOOTSTRAP_ACCOUNTS.iter().enumerate() {
        let k = bootstrap(i + 1);
        assert_eq!(k.public_key().address().to_string(), account.address);
        assert_eq!(k.public_key().to_string(), account.public_key);
        assert_eq!(
            api.balance("head", &k, TEZ.asset_id).await,
            u128::from(TEZ.bootstrap_amount)
        );
        assert_eq!(
            api.balance("head", &k, USD.asset_id).await,
            u128::from(USD.bootstrap_amount)
        );
    }

    // Errors come as Octez error traces.
    for (path, status) in [
        ("/global/block/999999/hash", 404),
        ("/global/block/nonsense/hash", 400),
        (
            "/global/block/BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2/hash",
            404,
        ),
        (
            "/global/block/head/durable/wasm_2_0_0/value?key=no-slash",
            400,
        ),
        ("/global/block/head/durable/wasm_2_0_0/value", 400),
        ("/no/such/rpc", 404),
    ] {
        let (got, body) = api.request("GET", path, None).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body[0]["kind"], "permanent", "{path}");
        assert!(
            body[0]["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}"
        );
    }
    let (status, body) = api
        .request("POST", "/local/batcher/injection", Some(json!(["zz"])))
        .await;
    assert_eq!(
        (status, body[0]["id"].as_str()),
        (400, Some("sandbox.bad_request"))
    );
    let (status, _) = api
        .request(
            "POST",
            "/local/batcher/injection",
            Some(json!([hex::encode([1u8; 4075])])),
        )
        .await;
    assert_eq!(status, 400);
    let unknown = api
        .get(
            "/local/batcher/queue/{l2_message_id}",
            "/local/batcher/queue/scmsg1yX8hS44yKypFpAqHpEmeytkcrFCj4oW4b3Uy4BatWQ3CNdGqC",
        )
        .await;
    assert_eq!(unknown["status"], "unknown");
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn monitor_blocks_streams_each_new_block() {
    let (_dir, api, running) = sandbox(KernelSource::Native).await;
    let res = reqwest::get(format!("{}/global/monitor_blocks", api.base()))
        .await
        .expect("stream");
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let first = api.produce().await;
    let second = api.produce().await;
    let mut buffer = Vec::new();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("a block within 10 s")
            .expect("the stream goes on")
            .expect("bytes");
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let block: serde_json::Value = serde_json::from_slice(&line).expect("JSON");
            check_schema("get", "/global/monitor_blocks", &block);
            seen.push(block["level"].as_u64().expect("a level") as u32);
        }
    }
    assert_eq!(seen, vec![first, second]);
    running
        .stop()
        .await
        .expect("stops while a watcher is connected");
}

#[tokio::test]
async fn a_reorganisation_replaces_levels_with_new_hashes() {
    let (_dir, api, running) = sandbox(KernelSource::Native).await;
    api.inject(&[api.batch(vec![(&bootstrap(4), profile("Cy"))]).await])
        .await;
    for _ in 0..3 {
        api.produce().await;
    }
    let head = api.head().await;
    let old: Vec<(String, String)> = {
        let mut v = Vec::new();
        for l in head - 2..=head {
            let b = api
                .get("/global/block/{block_id}", &format!("/global/block/{l}"))
                .await;
            v.push((
                b["block_hash"].as_str().expect("h").to_owned(),
                b["state_hash"].as_str().expect("h").to_owned(),
            ));
        }
        v
    };
    let replaced = api
        .post(None, "/sandbox/reorg", json!({ "depth": 2 }))
        .await;
    assert_eq!(replaced.as_array().map(Vec::len), Some(2));
    assert_eq!(api.head().await, head);
    for (i, l) in (head - 2..=head).enumerate() {
        let b = api
            .get("/global/block/{block_id}", &format!("/global/block/{l}"))
            .await;
        assert_eq!(b["state_hash"], old[i].1, "level {l} keeps its state");
        if i == 0 {
            assert_eq!(b["block_hash"], old[i].0, "level {l} is kept");
        } else {
            assert_ne!(b["block_hash"], old[i].0, "level {l} is replaced");
            let (status, _) = api
                .request("GET", &format!("/global/block/{}/hash", old[i].0), None)
                .await;
            assert_eq!(status, 404);
        }
    }
    let (status, _) = api
        .request("POST", "/sandbox/reorg", Some(json!({ "depth": 0 })))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .request("POST", "/sandbox/reorg", Some(json!({ "depth": 10_000 })))
        .await;
    assert_eq!(status, 400);
    running.stop().await.expect("stops");
}

#[test]
fn the_schema_check_refuses_answers_of_the_wrong_shape() {
    let refused = |template: &str, body: serde_json::Value| {
        std::panic::catch_unwind(|| check_schema("get", template, &body)).is_err()
    };
    assert!(refused("/global/block/{block_id}", json!({ "level": 3 })));
    assert!(refused("/global/block/{block_id}/level", json!("3")));
    assert!(refused(
        "/global/block/{block_id}/durable/wasm_2_0_0/value",
        json!("not hex!")
    ));
    assert!(refused("/health", json!({ "healthy": true })));
    // `nullable` answers are accepted as null.
    check_schema(
        "get",
        "/global/block/{block_id}/durable/wasm_2_0_0/value",
        &json!(null),
    );
    check_schema(
        "get",
        "/global/block/{block_id}/durable/wasm_2_0_0/length",
        &json!("12"),
    );
}

#[tokio::test]
async fn pages_of_the_named_origins_may_call_the_rpc_and_no_others() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cfg = config(dir.path(), KernelSource::Native);
    cfg.cors_origins = vec!["http://127.0.0.1:8080".to_owned()];
    let running = start(cfg).await.expect("the sandbox starts");
    let client = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/local/batcher/injection", running.url()),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight("http://127.0.0.1:8080").await.expect("answers");
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .expect("text");
    assert!(methods.contains("POST"), "{methods}");
    let other = preflight("http://evil.example").await.expect("answers");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let read = client
        .get(format!("{}/global/smart_rollup_address", running.url()))
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .expect("answers");
    assert_eq!(
        read.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn pages_of_other_origins_cannot_post_and_injection_is_bounded() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cfg = config(dir.path(), KernelSource::Native);
    cfg.cors_origins = vec!["http://127.0.0.1:8080".to_owned()];
    cfg.block_time = None;
    let running = start(cfg).await.expect("the sandbox starts");
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", running.url());
    // A page elsewhere posts as text/plain, which needs no preflight: the
    // node refuses it before it does anything.
    let level = || {
        running
            .sandbox()
            .store()
            .head()
            .expect("reads")
            .map(|b| b.level)
    };
    let head = level();
    for path in [
        "/sandbox/produce-level",
        "/local/batcher/injection",
        "/sandbox/deposit",
    ] {
        let forged = client
            .post(url(path))
            .header("Origin", "http://evil.example")
            .header("Content-Type", "text/plain")
            .body(r#"["00"]"#)
            .send()
            .await
            .expect("answers");
        assert_eq!(forged.status().as_u16(), 403, "{path}");
        let body = forged.text().await.expect("body");
        assert!(body.contains("--cors-origin http://evil.example"), "{body}");
    }
    assert_eq!(level(), head, "nothing happened");
    let allowed = client
        .post(url("/sandbox/produce-level"))
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .expect("answers");
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let program = client
        .post(url("/sandbox/produce-level"))
        .send()
        .await
        .expect("answers");
    assert!(program.status().is_success(), "{}", program.status());

    // At most 1,000 messages a request, 20,000 waiting, 1,000 a level.
    let inject = |n: usize| {
        client
            .post(url("/local/batcher/injection"))
            .json(&vec!["00"; n])
            .send()
    };
    let too_many = inject(1_001).await.expect("answers");
    assert_eq!(too_many.status().as_u16(), 400);
    assert!(too_many
        .text()
        .await
        .expect("body")
        .contains("at most 1000"));
    for _ in 0..20 {
        let ok = inject(1_000).await.expect("answers");
        assert!(ok.status().is_success(), "{}", ok.status());
    }
    let full = inject(1).await.expect("answers");
    assert_eq!(full.status().as_u16(), 503);
    assert!(full.text().await.expect("body").contains("queue is full"));
    running.sandbox().produce_level().await.expect("a level");
    assert_eq!(
        running.sandbox().store().pending_count().expect("counts"),
        19_000,
        "a level takes 1,000 messages, the rest wait"
    );
    let ok = inject(1).await.expect("answers");
    assert!(ok.status().is_success(), "room again: {}", ok.status());
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn a_cors_origin_must_be_a_web_origin() {
    for bad in [
        "127.0.0.1:8080",
        "http://",
        "https://a.example/path",
        "ftp://a.example",
    ] {
        assert!(pledgeroll_sandbox::web_origin(bad).is_err(), "{bad}");
    }
    for good in [
        "http://127.0.0.1:8080",
        "https://pledgeroll.example",
        "http://[::1]:80",
    ] {
        assert_eq!(pledgeroll_sandbox::web_origin(good).as_deref(), Ok(good));
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cfg = config(dir.path(), KernelSource::Native);
    cfg.cors_origins = vec!["pledgeroll.example".to_owned()];
    let refused = start(cfg).await.expect_err("refused");
    assert!(
        refused.to_string().contains("not a web origin"),
        "{refused}"
    );
}
