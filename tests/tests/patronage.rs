//! Patronage end to end, in all four stacks: a creator publishes tiers;
//! patrons deposit from layer 1 and pledge; a month passes; the creator
//! withdraws exactly what streamed to them and it reaches layer 1; a patron
//! who runs dry stops streaming at the right second. Everything is checked
//! through the directory's API and pages, beside the node.

#![allow(clippy::indexing_slicing, clippy::panic)]

use pledgeroll_contracts::encoding::List;
use pledgeroll_contracts::state::{EndReason, PauseReason, PledgeStatus, Profile};
use pledgeroll_contracts::{Address, Operation, PledgeId, TierId};
use pledgeroll_tests::{
    address, contract, in_all_four_stacks, int, key, text, Database, Kernel, Stack, DAY, MONTH,
    TEZ, UNIT, USD,
};
use serde_json::Value;

/// The directory's record of one pledge on a creator's page.
fn pledge_view(creator_view: &Value, id: PledgeId) -> Value {
    creator_view["pledges"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| int(&p["pledge_id"]) == i128::from(id.0))
        .cloned()
        .unwrap_or_else(|| panic!("pledge {} is not on the creator's page", id.0))
}

/// The directory's ledger movements of `account`, oldest first.
async fn movements(stack: &Stack, account: &Address) -> Vec<Value> {
    let page = stack
        .api(&format!("/api/v1/ledger?account={account}&limit=100"))
        .await;
    let mut movements = page["movements"].as_array().cloned().unwrap_or_default();
    movements.reverse();
    movements
}

async fn pledge_id(stack: &Stack, patron: &Address) -> PledgeId {
    let pledges = stack
        .wallet
        .patron_pledges(patron)
        .await
        .unwrap_or_else(|e| panic!("pledges of {patron}: {e}"));
    assert_eq!(pledges.len(), 1, "{patron} made one pledge");
    pledges[0].0
}

async fn patronage(database: Database, kernel: Kernel) {
    let stack = Stack::start(database, kernel).await;
    let (alice, bob, carol) = (key("alice"), key("bob"), key("carol"));
    let (a, b, c) = (address(&alice), address(&bob), address(&carol));
    let vault = contract("alice-vault");

    // Alice publishes her page and two tiers.
    stack
        .send(
            &alice,
            Operation::SetProfile {
                profile: Profile {
                    name: text("Alice's Atelier"),
                    description: text("Linocut prints, one a month"),
                    links: List::new(vec![text("https://example.org/alice")]).expect("one link"),
                },
            },
        )
        .await;
    stack
        .send(
            &alice,
            Operation::AddTier {
                title: text("Supporter"),
                perks: text("A print every month"),
                asset: TEZ,
                amount_per_period: 5 * UNIT,
                period: 2_592_000,
                patron_limit: None,
            },
        )
        .await;
    stack
        .send(
            &alice,
            Operation::AddTier {
                title: text("Studio pass"),
                perks: text("Every print, and the studio's open days"),
                asset: USD,
                amount_per_period: 30 * UNIT,
                period: 2_592_000,
                patron_limit: Some(10),
            },
        )
        .await;
    let tiers: Vec<TierId> = stack
        .wallet
        .creator(&a)
        .await
        .expect("creator")
        .expect("alice is a creator")
        .tiers
        .items()
        .to_vec();
    assert_eq!(tiers.len(), 2);
    let view = stack.api(&format!("/api/v1/creators/{a}")).await;
    assert_eq!(view["creator"]["name"], "Alice's Atelier");
    let listed: Vec<(String, i128, i128, i128, i128)> = view["tiers"]
        .as_array()
        .expect("tiers")
        .iter()
        .map(|t| {
            (
                t["title"].as_str().expect("title").to_owned(),
                int(&t["tier_id"]),
                int(&t["asset_id"]),
                int(&t["amount_per_period"]),
                int(&t["period"]),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                "Supporter".to_owned(),
                i128::from(tiers[0].0),
                0,
                5_000_000,
                2_592_000
            ),
            (
                "Studio pass".to_owned(),
                i128::from(tiers[1].0),
                1,
                30_000_000,
                2_592_000
            ),
        ]
    );
    let page = stack.page(&format!("/creators/{a}")).await;
    for shown in [
        "Alice&#39;s Atelier",
        "Supporter",
        "Studio pass",
        "A print every month",
    ] {
        assert!(
            page.contains(shown) || page.contains(&shown.replace("&#39;", "'")),
            "the creator page shows {shown}"
        );
    }

    // Bob and Carol deposit from layer 1 and pledge: Bob at most one
    // month's worth, Carol with one day's worth in her account.
    stack.deposit(&b, "tez", 100 * UNIT).await;
    stack.deposit(&c, "usd", UNIT).await;
    let deposits = movements(&stack, &b).await;
    assert!(
        deposits
            .iter()
            .any(|m| m["kind"] == "deposit" && int(&m["units"]) == 100_000_000),
        "the directory shows Bob's deposit: {deposits:?}"
    );
    stack
        .send(
            &bob,
            Operation::Pledge {
                tier: tiers[0],
                amount: None,
                end: None,
                cap: Some(5 * UNIT),
            },
        )
        .await;
    stack
        .send(
            &carol,
            Operation::Pledge {
                tier: tiers[1],
                amount: None,
                end: None,
                cap: None,
            },
        )
        .await;
    let (bob_pledge, carol_pledge) = (pledge_id(&stack, &b).await, pledge_id(&stack, &c).await);
    let view = stack.api(&format!("/api/v1/creators/{a}")).await;
    assert_eq!(int(&view["creator"]["active_patrons"]), 2);
    let bob_started = int(&pledge_view(&view, bob_pledge)["created_at"]);
    let carol_started = int(&pledge_view(&view, carol_pledge)["created_at"]);
    assert_eq!(pledge_view(&view, bob_pledge)["status"], "active");
    assert_eq!(pledge_view(&view, carol_pledge)["status"], "active");
    let membership = stack
        .api(&format!("/api/v1/creators/{a}/patrons/{b}"))
        .await;
    assert_eq!(membership["active"], true);

    // A month passes.
    stack.advance(MONTH + 60).await;

    // Carol's usd lasted exactly one day: her stream stopped at
    // created_at + 86,400, having paid all of it.
    let carol_record = stack
        .wallet
        .pledge(carol_pledge)
        .await
        .expect("pledge")
        .expect("carol's pledge");
    assert_eq!(
        carol_record.status,
        PledgeStatus::Paused {
            reason: PauseReason::OutOfFunds
        }
    );
    let view = stack.api(&format!("/api/v1/creators/{a}")).await;
    let carol_view = pledge_view(&view, carol_pledge);
    assert_eq!(carol_view["status"], "paused");
    assert_eq!(carol_view["reason"], "out_of_funds");
    let carol_streams: Vec<Value> = movements(&stack, &c)
        .await
        .into_iter()
        .filter(|m| m["kind"] == "stream")
        .collect();
    let dry_at = carol_streams
        .iter()
        .map(|m| int(&m["happened_at"]))
        .max()
        .expect("carol streamed");
    assert_eq!(
        dry_at,
        carol_started + i128::from(DAY),
        "Carol's pledge stops the second her 1 usd is spent"
    );
    assert_eq!(
        carol_streams.iter().map(|m| int(&m["units"])).sum::<i128>(),
        1_000_000
    );
    assert_eq!(stack.balance(&c, USD).await, 0);
    let patron = stack.api(&format!("/api/v1/patrons/{c}")).await;
    assert!(
        patron["runway"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|r| int(&r["monthly_out_units"]) == 0),
        "Carol pays nothing any more: {patron}"
    );

    // Bob's cap ended his pledge after exactly one month at 5 tez.
    let bob_record = stack
        .wallet
        .pledge(bob_pledge)
        .await
        .expect("pledge")
        .expect("bob's pledge");
    assert_eq!(
        bob_record.status,
        PledgeStatus::Ended {
            reason: EndReason::CapReached
        }
    );
    let bob_stopped = movements(&stack, &b)
        .await
        .iter()
        .filter(|m| m["kind"] == "stream")
        .map(|m| int(&m["happened_at"]))
        .max()
        .expect("bob streamed");
    assert_eq!(bob_stopped, bob_started + i128::from(MONTH));
    assert_eq!(pledge_view(&view, bob_pledge)["reason"], "cap_reached");

    // Alice has exactly 5 tez and 1 usd, and withdraws exactly that to her
    // layer-1 contract; not one base unit more.
    assert_eq!(stack.balance(&a, TEZ).await, 5_000_000);
    assert_eq!(stack.balance(&a, USD).await, 1_000_000);
    for (asset, units) in [(TEZ, 5 * UNIT), (USD, UNIT)] {
        stack
            .send(
                &alice,
                Operation::Withdraw {
                    asset,
                    amount: units,
                    destination: vault,
                    entrypoint: text("default"),
                },
            )
            .await;
    }
    let reason = stack
        .refused(
            &alice,
            Operation::Withdraw {
                asset: TEZ,
                amount: 1,
                destination: vault,
                entrypoint: text("default"),
            },
        )
        .await;
    assert!(!reason.is_empty());
    assert_eq!(stack.balance(&a, TEZ).await, 0);
    assert_eq!(stack.balance(&a, USD).await, 0);
    let withdrawn: Vec<(i128, i128)> = movements(&stack, &a)
        .await
        .iter()
        .filter(|m| m["kind"] == "withdrawal")
        .map(|m| (int(&m["asset_id"]), int(&m["units"])))
        .collect();
    assert_eq!(withdrawn, vec![(0, 5_000_000), (1, 1_000_000)]);

    // Both withdrawals reach the simulated layer 1.
    let vault = vault.to_string();
    assert_eq!(
        stack.layer1_balance(&vault, "tez", 5_000_000).await,
        5_000_000
    );
    assert_eq!(
        stack.layer1_balance(&vault, "usd", 1_000_000).await,
        1_000_000
    );

    // The directory's own figures agree: Carol's paused pledge is still
    // hers to resume, Bob's has ended, and nobody streams.
    let view = stack.api(&format!("/api/v1/creators/{a}")).await;
    assert_eq!(int(&view["creator"]["patrons"]), 1);
    assert_eq!(int(&view["creator"]["active_patrons"]), 0);

    // The mirror recorded the hash of the kernel the node runs, the one
    // `scripts/build-kernel` prints for kernel.wasm; a native kernel is
    // kept nowhere in the durable storage, so it has none.
    let about = stack.api("/api/v1/about").await;
    match kernel {
        Kernel::Wasm => {
            let built = hex::encode(pledgeroll_contracts::crypto::blake2b_256(
                &pledgeroll_tests::kernel_wasm(),
            ));
            assert_eq!(about["kernel_hash"], built, "{about}");
            let page = stack.page("/about").await;
            assert!(page.contains(&built), "the about page shows it");
            let home = stack.page("/").await;
            assert!(
                home.contains(&format!(
                    "kernel <span class=\"addr\">{}</span>",
                    &built[..16]
                )),
                "every page's footer names the kernel"
            );
        }
        Kernel::Native => assert_eq!(about["kernel_hash"], Value::Null, "{about}"),
    }
    stack.stop().await;
}

in_all_four_stacks!(patronage);
