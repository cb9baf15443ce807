//! Project escrows end to end, in all four stacks: a public project pays
//! one invoice when two of three commissioners approve and another when its
//! time-lock passes; a private project's patron vetoes an invoice, which
//! then never pays, and takes the funds back after the refund deadline; the
//! paid worker withdraws to layer 1. Checked through the directory's API
//! and pages, beside the node.

#![allow(clippy::indexing_slicing, clippy::panic)]

use pledgeroll_contracts::encoding::List;
use pledgeroll_contracts::escrow::{Budget, InvoiceStatus, Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Address, Operation, ProjectId};
use pledgeroll_tests::{
    address, contract, in_all_four_stacks, int, key, text, Database, Kernel, Stack, DAY, UNIT, USD,
};
use serde_json::Value;

use pledgeroll_contracts::units::HOUR;

fn project(op: ProjectOperation) -> Operation {
    Operation::Project { op }
}

async fn next_project(stack: &Stack) -> ProjectId {
    ProjectId(stack.wallet.counters().await.expect("counters").project)
}

async fn create(
    stack: &Stack,
    by: &SecretKey,
    title: &str,
    commissioners: Vec<Address>,
    threshold: u8,
    mode: Mode,
    refund_in: u64,
) -> ProjectId {
    let id = next_project(stack).await;
    let deadline = stack.now().await + refund_in;
    stack
        .send(
            by,
            project(ProjectOperation::Create {
                title: text(title),
                description: text("Work paid from a shared escrow"),
                link: Some(text("https://example.org/project")),
                commissioners: List::new(commissioners).expect("few commissioners"),
                threshold,
                mode,
                time_lock: Some(HOUR),
                refund_deadline: deadline,
            }),
        )
        .await;
    id
}

/// Opens and closes a ticket, then raises an invoice for it; returns the
/// invoice's number.
async fn invoice_for_work(
    stack: &Stack,
    commissioner: &SecretKey,
    id: ProjectId,
    title: &str,
    beneficiary: Address,
    units: u64,
) -> u32 {
    let view = stack.api(&format!("/api/v1/projects/{}", id.0)).await;
    let ticket = u32::try_from(view["tickets"].as_array().map_or(0, Vec::len)).expect("few");
    let invoice = u32::try_from(view["invoices"].as_array().map_or(0, Vec::len)).expect("few");
    for op in [
        ProjectOperation::OpenTicket {
            project: id,
            title: text(title),
            url: Some(text("https://example.org/issues/1")),
            budget: Some(Budget {
                asset: USD,
                amount: units,
            }),
        },
        ProjectOperation::CloseTicket {
            project: id,
            ticket,
        },
        ProjectOperation::RaiseInvoice {
            project: id,
            ticket,
            beneficiary,
            asset: USD,
            amount: units,
        },
    ] {
        stack.send(commissioner, project(op)).await;
    }
    invoice
}

fn invoice_view(project_view: &Value, n: u32) -> Value {
    project_view["invoices"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| int(&i["invoice_no"]) == i128::from(n))
        .cloned()
        .unwrap_or_else(|| panic!("invoice {n} is not on the project's page"))
}

fn escrowed(project_view: &Value) -> i128 {
    project_view["escrow"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| int(&e["asset_id"]) == 1)
        .map(|e| int(&e["units"]))
        .sum()
}

async fn escrows(database: Database, kernel: Kernel) {
    let stack = Stack::start(database, kernel).await;
    let (c1, c2, c3) = (key("c1"), key("c2"), key("c3"));
    let (funder, worker) = (key("funder"), key("worker"));
    let (f, w) = (address(&funder), address(&worker));
    stack.deposit(&f, "usd", 1_000 * UNIT).await;

    // A public project: two of three commissioners, a one-hour time-lock.
    let public = create(
        &stack,
        &c1,
        "Community bounties",
        vec![address(&c1), address(&c2), address(&c3)],
        2,
        Mode::Public,
        30 * DAY,
    )
    .await;
    stack
        .send(
            &funder,
            project(ProjectOperation::Fund {
                project: public,
                asset: USD,
                amount: 500 * UNIT,
            }),
        )
        .await;

    // Invoice 0 pays as soon as a second commissioner approves.
    let first = invoice_for_work(&stack, &c1, public, "Fix the export", w, 120 * UNIT).await;
    stack
        .send(
            &c2,
            project(ProjectOperation::Approve {
                project: public,
                invoice: first,
            }),
        )
        .await;
    let view = stack.api(&format!("/api/v1/projects/{}", public.0)).await;
    let paid = invoice_view(&view, first);
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["approvals"].as_array().map(Vec::len), Some(2));
    assert_eq!(stack.balance(&w, USD).await, 120_000_000);

    // Invoice 1 has only its raiser's approval: it pays when the time-lock
    // ends, at exactly raised_at + 1 hour.
    let second = invoice_for_work(&stack, &c1, public, "Write the manual", w, 80 * UNIT).await;
    let view = stack.api(&format!("/api/v1/projects/{}", public.0)).await;
    let waiting = invoice_view(&view, second);
    assert_eq!(waiting["status"], "open");
    assert_eq!(
        int(&waiting["unlocks_at"]),
        int(&waiting["raised_at"]) + i128::from(HOUR)
    );
    assert_eq!(stack.balance(&w, USD).await, 120_000_000);
    stack.advance(HOUR + 60).await;
    let view = stack.api(&format!("/api/v1/projects/{}", public.0)).await;
    let timed_out = invoice_view(&view, second);
    assert_eq!(timed_out["status"], "paid");
    assert_eq!(int(&timed_out["settled_at"]), int(&waiting["unlocks_at"]));
    assert_eq!(stack.balance(&w, USD).await, 200_000_000);
    assert_eq!(escrowed(&view), 300_000_000);
    let page = stack.page(&format!("/projects/{}", public.0)).await;
    for shown in [
        "Community bounties",
        "Fix the export",
        "Write the manual",
        "An invoice has paid: refunds open only if the commissioners approve them.",
    ] {
        assert!(page.contains(shown), "the project page shows {shown}");
    }
    assert!(
        !page.contains("if nothing has paid"),
        "no refund promise after a payout"
    );

    // A private project: the funding patron plus two commissioners, of whom
    // two must agree; the patron vetoes the invoice.
    let private = create(
        &stack,
        &c1,
        "A commissioned mural",
        vec![address(&c1), address(&c2)],
        2,
        Mode::Private { patron: f },
        2 * DAY,
    )
    .await;
    stack
        .send(
            &funder,
            project(ProjectOperation::Fund {
                project: private,
                asset: USD,
                amount: 200 * UNIT,
            }),
        )
        .await;
    let vetoed = invoice_for_work(&stack, &c1, private, "Sketches", w, 60 * UNIT).await;
    stack
        .send(
            &funder,
            project(ProjectOperation::Veto {
                project: private,
                invoice: vetoed,
            }),
        )
        .await;
    stack.advance(2 * HOUR).await;
    let record = stack
        .wallet
        .invoice(private, vetoed)
        .await
        .expect("invoice")
        .expect("the vetoed invoice");
    assert_eq!(record.status, InvoiceStatus::Open);
    let view = stack.api(&format!("/api/v1/projects/{}", private.0)).await;
    let shown = invoice_view(&view, vetoed);
    assert_eq!(
        shown["status"], "open",
        "the veto window passed without paying"
    );
    assert!(
        shown["vetoes"]
            .as_array()
            .is_some_and(|v| v.contains(&Value::from(f.to_string()))),
        "the directory shows the patron's veto: {shown}"
    );
    assert_eq!(stack.balance(&w, USD).await, 200_000_000);
    assert_eq!(escrowed(&view), 200_000_000);
    assert_eq!(
        view["project"]["patron"],
        f.to_string(),
        "the API names the patron"
    );
    let page = stack.page(&format!("/projects/{}", private.0)).await;
    assert!(page.contains("Funding patron") && page.contains(&f.to_string()[..8]));
    assert!(
        page.contains("vetoed: pays only with 2 approvals") && !page.contains(">unlocked<"),
        "a vetoed invoice never shows as unlocked"
    );

    // Before the refund deadline the patron cannot take the funds back;
    // after it, they get every unit.
    let before = stack.balance(&f, USD).await;
    stack
        .refused(
            &funder,
            project(ProjectOperation::Reclaim { project: private }),
        )
        .await;
    stack.advance(2 * DAY).await;
    stack
        .send(
            &funder,
            project(ProjectOperation::Reclaim { project: private }),
        )
        .await;
    assert_eq!(stack.balance(&f, USD).await, before + 200_000_000);
    let view = stack.api(&format!("/api/v1/projects/{}", private.0)).await;
    assert_eq!(view["project"]["status"], "refunding");
    let page = stack.page(&format!("/projects/{}", private.0)).await;
    assert!(page.contains("Refunds are open") && !page.contains("if nothing has paid"));
    assert_eq!(escrowed(&view), 0);
    let refunds: Vec<i128> = stack
        .api(&format!("/api/v1/ledger?account={f}&kind=refund&limit=100"))
        .await["movements"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| int(&m["units"]))
        .collect();
    assert_eq!(refunds, vec![200_000_000]);

    // The projects list pages newest first.
    let newest = stack.api("/api/v1/projects?limit=1").await;
    assert_eq!(
        int(&newest["projects"][0]["project"]["project_id"]),
        i128::from(private.0)
    );
    assert_eq!(int(&newest["next"]), i128::from(private.0));
    let older = stack
        .api(&format!("/api/v1/projects?limit=1&before={}", private.0))
        .await;
    assert_eq!(
        int(&older["projects"][0]["project"]["project_id"]),
        i128::from(public.0)
    );
    assert_eq!(older["next"], Value::Null);
    let listed = stack.page("/projects?limit=1").await;
    assert!(listed.contains("A commissioned mural") && listed.contains("Older"));

    // The worker's pay reaches layer 1.
    let wallet_contract = contract("worker-wallet");
    stack
        .send(
            &worker,
            Operation::Withdraw {
                asset: USD,
                amount: 200 * UNIT,
                destination: wallet_contract,
                entrypoint: text("default"),
            },
        )
        .await;
    assert_eq!(stack.balance(&w, USD).await, 0);
    assert_eq!(
        stack
            .layer1_balance(&wallet_contract.to_string(), "usd", 200_000_000)
            .await,
        200_000_000
    );
    stack.stop().await;
}

in_all_four_stacks!(escrows);
