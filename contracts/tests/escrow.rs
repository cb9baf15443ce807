//! Project escrows: every rule beside its negative twin, and a walk through
//! each mode with time advancing between levels.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

mod common;

use common::*;
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{
    InvoiceStatus, Mode, ProjectOperation, ProjectStatus, DEFAULT_TIME_LOCK, DEFAULT_VETO_WINDOW,
};
use pledgeroll_contracts::event::Event;
use pledgeroll_contracts::{Address, AssetId, Created, Holder, Operation, ProjectId};

use pledgeroll_contracts::units::HOUR;

fn project(op: ProjectOperation) -> Operation {
    Operation::Project { op }
}

/// Opening a ticket titled `title` in project `id`, with an issue URL.
fn open_ticket(id: ProjectId, title: &str, url: Option<&str>) -> Operation {
    project(ProjectOperation::OpenTicket {
        project: id,
        title: Text::new(title).expect("short"),
        url: url.map(|u| Text::new(u).expect("short")),
        budget: None,
    })
}

/// Accounts: 0, 1, 2 commissioners; 3, 4 funders; 5 beneficiary.
struct Escrow {
    w: World,
    asset: AssetId,
    id: ProjectId,
}

impl Escrow {
    fn new(mode_patron: Option<usize>, threshold: u8) -> Self {
        let mut w = World::new(6);
        let asset = w.deposit(3, tez_ticket(), 1_000_000);
        w.deposit(4, tez_ticket(), 1_000_000);
        let commissioners: Vec<Address> = (0..3).map(|i| w.addr(i)).collect();
        let mode = match mode_patron {
            None => Mode::Public,
            Some(p) => Mode::Private { patron: w.addr(p) },
        };
        let id = ProjectId(w.p.counters().expect("read").project);
        w.ok(
            0,
            project(ProjectOperation::Create {
                title: Text::new("better docs").expect("short"),
                description: Text::new("a rewrite of the manual").expect("short"),
                link: Some(Text::new("https://gitlab.com/example/manual").expect("short")),
                commissioners: List::new(commissioners).expect("few"),
                threshold,
                mode,
                time_lock: None,
                refund_deadline: START as u64 + 90 * DAY,
            }),
        );
        Escrow { w, asset, id }
    }

    fn fund(&mut self, who: usize, amount: u64) {
        let (id, asset) = (self.id, self.asset);
        self.w.ok(
            who,
            project(ProjectOperation::Fund {
                project: id,
                asset,
                amount,
            }),
        );
    }

    fn closed_ticket(&mut self) -> u32 {
        let id = self.id;
        let n = self.w.p.project(id).expect("read").expect("exists").tickets;
        self.w.ok(
            1,
            project(ProjectOperation::OpenTicket {
                project: id,
                title: Text::new("chapter 1").expect("short"),
                url: Some(Text::new("https://github.com/example/manual/issues/1").expect("short")),
                budget: None,
            }),
        );
        self.w.ok(
            1,
            project(ProjectOperation::CloseTicket {
                project: id,
                ticket: n,
            }),
        );
        n
    }

    fn raise(&mut self, by: usize, amount: u64) -> u32 {
        let ticket = self.closed_ticket();
        let (id, asset) = (self.id, self.asset);
        let beneficiary = self.w.addr(5);
        let n = self
            .w
            .p
            .project(id)
            .expect("read")
            .expect("exists")
            .invoices;
        self.w.ok(
            by,
            project(ProjectOperation::RaiseInvoice {
                project: id,
                ticket,
                beneficiary,
                asset,
                amount,
            }),
        );
        n
    }

    fn status(&self, n: u32) -> InvoiceStatus {
        self.w
            .p
            .invoice(self.id, n)
            .expect("read")
            .expect("exists")
            .status
    }

    fn approve(&mut self, who: usize, invoice: u32) -> Operation {
        let _ = who;
        project(ProjectOperation::Approve {
            project: self.id,
            invoice,
        })
    }

    fn escrow_balance(&self) -> u128 {
        self.w
            .p
            .balance(&Holder::Project(self.id), self.asset)
            .expect("read")
    }
}

#[test]
fn a_project_needs_valid_commissioners_threshold_and_deadline() {
    let mut w = World::new(3);
    let make = |commissioners: Vec<Address>, threshold: u8, mode: Mode, deadline: u64| {
        project(ProjectOperation::Create {
            title: Text::new("p").expect("short"),
            description: Text::new("").expect("short"),
            link: None,
            commissioners: List::new(commissioners).expect("few"),
            threshold,
            mode,
            time_lock: None,
            refund_deadline: deadline,
        })
    };
    let later = START as u64 + DAY;
    let (a, b) = (w.addr(0), w.addr(1));
    assert!(w
        .fails(0, make(vec![], 1, Mode::Public, later))
        .contains("at least one"));
    assert!(w
        .fails(0, make(vec![a, a], 1, Mode::Public, later))
        .contains("distinct"));
    assert!(w
        .fails(0, make(vec![a, b], 3, Mode::Public, later))
        .contains("threshold"));
    assert!(w
        .fails(0, make(vec![a, b], 0, Mode::Public, later))
        .contains("threshold"));
    assert!(w
        .fails(0, make(vec![a, b], 1, Mode::Public, START as u64))
        .contains("deadline"));
    let patron = w.addr(2);
    assert!(w
        .fails(0, make(vec![a, b], 1, Mode::Private { patron }, later))
        .contains("(N + 1) / 3 + 1"));
    assert!(w
        .fails(0, make(vec![a, patron], 2, Mode::Private { patron }, later))
        .contains("patron"));
    w.ok(0, make(vec![a, b], 2, Mode::Private { patron }, later));
    w.ok(0, make(vec![a, b], 2, Mode::Public, later));
    assert_eq!(w.p.counters().expect("read").project, 2);
}

#[test]
fn only_commissioners_open_and_close_tickets() {
    let mut e = Escrow::new(None, 2);
    let id = e.id;
    let open = project(ProjectOperation::OpenTicket {
        project: id,
        title: Text::new("t").expect("short"),
        url: None,
        budget: None,
    });
    assert!(e.w.fails(3, open.clone()).contains("commissioners"));
    e.w.ok(0, open);
    assert!(e
        .w
        .fails(
            3,
            project(ProjectOperation::CloseTicket {
                project: id,
                ticket: 0
            })
        )
        .contains("commissioners"));
    e.w.ok(
        2,
        project(ProjectOperation::CloseTicket {
            project: id,
            ticket: 0,
        }),
    );
    assert!(e
        .w
        .fails(
            2,
            project(ProjectOperation::CloseTicket {
                project: id,
                ticket: 0
            })
        )
        .contains("already closed"));
    assert!(
        e.w.p
            .work_ticket(id, 0)
            .expect("read")
            .expect("exists")
            .closed
    );
}

#[test]
fn invoices_need_a_closed_ticket_and_unreserved_funds() {
    let mut e = Escrow::new(None, 2);
    e.fund(3, 1_000);
    let id = e.id;
    let beneficiary = e.w.addr(5);
    let asset = e.asset;
    e.w.ok(
        1,
        project(ProjectOperation::OpenTicket {
            project: id,
            title: Text::new("t").expect("short"),
            url: None,
            budget: None,
        }),
    );
    let on_open = project(ProjectOperation::RaiseInvoice {
        project: id,
        ticket: 0,
        beneficiary,
        asset,
        amount: 10,
    });
    assert!(e.w.fails(1, on_open).contains("closed tickets"));
    let first = e.raise(1, 600);
    assert_eq!(first, 0);
    let ticket = e.closed_ticket();
    let too_much = project(ProjectOperation::RaiseInvoice {
        project: id,
        ticket,
        beneficiary,
        asset,
        amount: 401,
    });
    assert!(e.w.fails(1, too_much).contains("insufficient"));
    let fits = project(ProjectOperation::RaiseInvoice {
        project: id,
        ticket,
        beneficiary,
        asset,
        amount: 400,
    });
    e.w.ok(1, fits);
    let by_funder = project(ProjectOperation::RaiseInvoice {
        project: id,
        ticket,
        beneficiary,
        asset,
        amount: 1,
    });
    assert!(e.w.fails(3, by_funder).contains("commissioners"));
}

#[test]
fn public_m_approvals_pay_at_once_and_nobody_approves_twice() {
    let mut e = Escrow::new(None, 2);
    e.fund(3, 1_000);
    let n = e.raise(0, 300);
    let approve = e.approve(0, n);
    assert!(e.w.fails(0, approve.clone()).contains("already approved"));
    assert!(e.w.fails(3, approve.clone()).contains("commissioners"));
    assert_eq!(e.status(n), InvoiceStatus::Open);
    e.w.ok(2, approve.clone());
    assert_eq!(e.status(n), InvoiceStatus::Paid);
    assert_eq!(e.w.balance(5, e.asset), 300);
    assert_eq!(e.escrow_balance(), 700);
    assert!(e.w.fails(1, approve).contains("not open"));
    assert_eq!(e.w.balance(5, e.asset), 300);
}

#[test]
fn public_invoice_approved_only_by_its_raiser_pays_when_the_time_lock_passes() {
    let mut e = Escrow::new(None, 3);
    e.fund(3, 1_000);
    let n = e.raise(1, 250);
    e.w.advance(DEFAULT_TIME_LOCK - HOUR);
    assert_eq!(e.status(n), InvoiceStatus::Open);
    let events = e.w.advance(2 * HOUR);
    assert!(events
        .iter()
        .any(|ev| matches!(ev, Event::InvoiceUpdated { invoice, .. } if *invoice == n)));
    let invoice = e.w.p.invoice(e.id, n).expect("read").expect("exists");
    assert_eq!(invoice.status, InvoiceStatus::Paid);
    assert_eq!(
        invoice.settled_at,
        Some(invoice.raised_at + DEFAULT_TIME_LOCK)
    );
    assert_eq!(e.w.balance(5, e.asset), 250);
    // A veto now, after the time-lock passed, does nothing.
    let veto = project(ProjectOperation::Veto {
        project: e.id,
        invoice: n,
    });
    assert!(e.w.fails(2, veto).contains("not open"));
    assert_eq!(e.w.balance(5, e.asset), 250);
}

#[test]
fn a_vetoed_public_invoice_waits_for_m_approvals() {
    let mut e = Escrow::new(None, 3);
    e.fund(3, 1_000);
    let n = e.raise(1, 250);
    let veto = project(ProjectOperation::Veto {
        project: e.id,
        invoice: n,
    });
    assert!(e.w.fails(1, veto.clone()).contains("another commissioner"));
    assert!(e.w.fails(3, veto.clone()).contains("another commissioner"));
    e.w.ok(2, veto.clone());
    assert!(e.w.fails(2, veto).contains("already vetoed"));
    e.w.advance(DEFAULT_TIME_LOCK + DAY);
    assert_eq!(e.status(n), InvoiceStatus::Open);
    assert_eq!(e.w.balance(5, e.asset), 0);
    let approve = e.approve(0, n);
    e.w.ok(0, approve.clone());
    assert_eq!(e.status(n), InvoiceStatus::Open);
    e.w.ok(2, approve);
    assert_eq!(e.status(n), InvoiceStatus::Paid);
    assert_eq!(e.w.balance(5, e.asset), 250);
}

#[test]
fn only_the_raiser_withdraws_an_open_invoice_and_its_reservation_frees() {
    let mut e = Escrow::new(None, 3);
    e.fund(3, 1_000);
    let n = e.raise(1, 1_000);
    let withdraw = project(ProjectOperation::WithdrawInvoice {
        project: e.id,
        invoice: n,
    });
    assert!(e.w.fails(0, withdraw.clone()).contains("raiser"));
    e.w.ok(1, withdraw.clone());
    assert!(e.w.fails(1, withdraw).contains("not open"));
    e.w.advance(DEFAULT_TIME_LOCK + 1);
    assert_eq!(e.status(n), InvoiceStatus::Withdrawn);
    assert_eq!(e.w.balance(5, e.asset), 0);
    e.raise(1, 1_000);
}

#[test]
fn private_patron_and_one_commissioner_pay_at_once_but_commissioners_alone_cannot() {
    let mut e = Escrow::new(Some(3), 2);
    e.fund(3, 1_000);
    let n = e.raise(0, 100);
    let approve = e.approve(1, n);
    e.w.ok(1, approve.clone());
    e.w.ok(2, approve.clone());
    e.w.advance(DEFAULT_VETO_WINDOW - HOUR);
    assert_eq!(
        e.status(n),
        InvoiceStatus::Open,
        "no payment without the patron before the window ends"
    );
    e.w.ok(3, approve);
    assert_eq!(e.status(n), InvoiceStatus::Paid);
    let m = e.raise(0, 100);
    let approve = e.approve(3, m);
    e.w.ok(3, approve);
    assert_eq!(e.status(m), InvoiceStatus::Paid);
    assert_eq!(e.w.balance(5, e.asset), 200);
}

#[test]
fn private_patron_veto_holds_an_invoice_past_its_window_and_silence_pays_it() {
    let mut e = Escrow::new(Some(3), 2);
    e.fund(3, 1_000);
    let vetoed = e.raise(0, 100);
    let silent = e.raise(0, 200);
    let veto = project(ProjectOperation::Veto {
        project: e.id,
        invoice: vetoed,
    });
    assert!(e.w.fails(1, veto.clone()).contains("funding patron"));
    e.w.ok(3, veto);
    e.w.advance(DEFAULT_VETO_WINDOW + HOUR);
    assert_eq!(e.status(vetoed), InvoiceStatus::Open);
    assert_eq!(e.status(silent), InvoiceStatus::Paid);
    assert_eq!(e.w.balance(5, e.asset), 200);
}

#[test]
fn refunds_before_the_deadline_fail_and_after_it_return_each_share_exactly() {
    let mut e = Escrow::new(None, 2);
    e.fund(3, 1);
    e.fund(4, 2);
    // Funder 4 also streams 30 units a day until the deadline.
    let id = e.id;
    let asset = e.asset;
    e.w.ok(
        4,
        project(ProjectOperation::Pledge {
            project: id,
            asset,
            amount_per_period: 30,
            period: 86_400,
            end: None,
            cap: None,
        }),
    );
    let reclaim = project(ProjectOperation::Reclaim { project: id });
    assert!(e
        .w
        .fails(3, reclaim.clone())
        .contains("after the refund deadline"));
    e.w.advance(91 * DAY);
    // The stream ended at the deadline: 90 days of 30 units.
    assert_eq!(e.escrow_balance(), 3 + 90 * 30);
    e.w.ok(3, reclaim.clone());
    assert_eq!(e.w.balance(3, asset), 1_000_000);
    assert!(e.w.fails(3, reclaim.clone()).contains("already reclaimed"));
    assert!(e.w.fails(5, reclaim.clone()).contains("did not fund"));
    e.w.ok(4, reclaim);
    assert_eq!(e.w.balance(4, asset), 1_000_000);
    assert_eq!(
        e.w.p
            .balance_fine(&Holder::Project(id), asset)
            .expect("read"),
        0
    );
    assert_eq!(
        e.w.p.project(id).expect("read").expect("exists").status,
        ProjectStatus::Refunding
    );
    let fund_again = project(ProjectOperation::Fund {
        project: id,
        asset,
        amount: 1,
    });
    assert!(e.w.fails(3, fund_again).contains("refunding"));
}

#[test]
fn after_a_payout_only_commissioners_open_refunds_and_shares_are_pro_rata_with_nothing_lost() {
    let mut e = Escrow::new(None, 2);
    e.fund(3, 100);
    e.fund(4, 200);
    let n = e.raise(0, 100);
    let approve = e.approve(1, n);
    e.w.ok(1, approve);
    assert_eq!(e.escrow_balance(), 200);
    e.w.advance(100 * DAY);
    let reclaim = project(ProjectOperation::Reclaim { project: e.id });
    assert!(e
        .w
        .fails(3, reclaim.clone())
        .contains("commissioners' approval"));
    let refund = project(ProjectOperation::ApproveRefund { project: e.id });
    assert!(e.w.fails(3, refund.clone()).contains("commissioners"));
    e.w.ok(0, refund.clone());
    assert!(e.w.fails(0, refund.clone()).contains("already approved"));
    let pending = e.raise(1, 50);
    e.w.ok(2, refund);
    assert_eq!(e.status(pending), InvoiceStatus::Withdrawn);
    // 200 unspent of 300 contributed: funder 3 gets 1/3, funder 4 gets 2/3.
    e.w.ok(4, reclaim.clone());
    e.w.ok(3, reclaim);
    let back_3 = e.w.balance_fine(3, e.asset) - fine(1_000_000 - 100);
    let back_4 = e.w.balance_fine(4, e.asset) - fine(1_000_000 - 200);
    assert_eq!(back_3 + back_4, fine(200));
    assert_eq!(back_4, fine(400) / 3);
    assert_eq!(
        e.w.p
            .balance_fine(&Holder::Project(e.id), e.asset)
            .expect("read"),
        0
    );
}

#[test]
fn a_public_project_walk_through() {
    let mut e = Escrow::new(None, 2);
    let (id, asset) = (e.id, e.asset);
    // Funding: a one-off, a tip, and a monthly stream.
    e.fund(3, 5_000);
    e.w.ok(
        4,
        Operation::Tip {
            to: Holder::Project(id),
            asset,
            amount: 500,
            memo: Text::new("go!").expect("short"),
        },
    );
    e.w.ok(
        4,
        project(ProjectOperation::Pledge {
            project: id,
            asset,
            amount_per_period: 3_000,
            period: MONTH,
            end: None,
            cap: None,
        }),
    );
    e.w.advance(u64::from(MONTH));
    assert_eq!(e.escrow_balance(), 8_500);
    // Work is done: one invoice by M-of-N, one by time-out.
    let quick = e.raise(0, 4_000);
    let approve = e.approve(2, quick);
    e.w.ok(2, approve);
    let slow = e.raise(1, 2_000);
    e.w.advance(DAY);
    assert_eq!(e.status(slow), InvoiceStatus::Open);
    e.w.advance(DEFAULT_TIME_LOCK);
    assert_eq!(e.status(slow), InvoiceStatus::Paid);
    assert_eq!(e.w.balance(5, asset), 6_000);
    let escrow = e.w.p.escrow_asset(id, asset).expect("read");
    assert_eq!((escrow.reserved, escrow.paid_out), (0, fine(6_000)));
    assert!(e.w.p.project(id).expect("read").expect("exists").paid_any);
}

#[test]
fn a_private_project_walk_through() {
    let mut e = Escrow::new(Some(3), 2);
    let (id, asset) = (e.id, e.asset);
    e.w.ok(
        3,
        project(ProjectOperation::Pledge {
            project: id,
            asset,
            amount_per_period: 1_000,
            period: 604_800,
            end: None,
            cap: Some(4_000),
        }),
    );
    e.w.advance(8 * 7 * DAY);
    assert_eq!(e.escrow_balance(), 4_000, "the cap stopped the stream");
    let approved = e.raise(0, 1_500);
    let by_patron = e.approve(3, approved);
    e.w.ok(3, by_patron);
    let vetoed = e.raise(1, 1_500);
    e.w.ok(
        3,
        project(ProjectOperation::Veto {
            project: id,
            invoice: vetoed,
        }),
    );
    let silent = e.raise(2, 1_000);
    e.w.advance(DEFAULT_VETO_WINDOW + 1);
    assert_eq!(
        (e.status(approved), e.status(vetoed), e.status(silent)),
        (
            InvoiceStatus::Paid,
            InvoiceStatus::Open,
            InvoiceStatus::Paid
        )
    );
    assert_eq!(e.w.balance(5, asset), 2_500);
}

#[test]
fn receipts_name_the_project_ticket_and_invoice_created() {
    let mut e = Escrow::new(None, 2);
    let id = e.id;
    let ticket = |title: &str, url: Option<&str>| open_ticket(id, title, url);
    // Two identical tickets in a row: each receipt names its own.
    for n in [0, 1] {
        let applied = e.w.ok(0, ticket("same", None));
        assert_eq!(
            applied.receipt.outcome.created(),
            Some(Created::Ticket {
                project: id,
                ticket: n
            })
        );
    }
    e.fund(3, 500);
    let invoice = e.raise(0, 100);
    let receipt_of_next = {
        let ticket = e.closed_ticket();
        let beneficiary = e.w.addr(5);
        e.w.ok(
            0,
            project(ProjectOperation::RaiseInvoice {
                project: id,
                ticket,
                beneficiary,
                asset: e.asset,
                amount: 1,
            }),
        )
    };
    assert_eq!(
        receipt_of_next.receipt.outcome.created(),
        Some(Created::Invoice {
            project: id,
            invoice: invoice + 1
        })
    );
    // Operations that create nothing say so.
    let approve = e.approve(1, invoice);
    let approved = e.w.ok(1, approve);
    assert_eq!(approved.receipt.outcome.created(), None);
}

#[test]
fn project_and_ticket_texts_follow_the_text_rules() {
    let mut e = Escrow::new(None, 2);
    let id = e.id;
    let ticket = |title: &str, url: Option<&str>| open_ticket(id, title, url);
    let reason = e.w.fails(0, ticket("fix\u{202e}txt.exe", None));
    assert!(
        reason.contains("ticket title") && reason.contains("U+202E"),
        "{reason}"
    );
    let reason = e.w.fails(0, ticket("ok", Some("javascript:alert(1)")));
    assert!(reason.contains("ticket URL"), "{reason}");
    e.w.ok(0, ticket("ok", Some("https://example.org/issues/1")));

    let create = |title: &str, description: &str, link: Option<&str>, w: &World| {
        project(ProjectOperation::Create {
            title: Text::new(title).expect("short"),
            description: Text::new(description).expect("short"),
            link: link.map(|l| Text::new(l).expect("short")),
            commissioners: List::new(vec![w.addr(0)]).expect("few"),
            threshold: 1,
            mode: Mode::Public,
            time_lock: None,
            refund_deadline: START as u64 + 90 * DAY,
        })
    };
    let bad = create("docs\0", "", None, &e.w);
    assert!(e.w.fails(0, bad).contains("project title"));
    let bad = create("docs", "a\u{b}b", None, &e.w);
    assert!(e.w.fails(0, bad).contains("project description"));
    let bad = create("docs", "", Some("https://user@example.org"), &e.w);
    assert!(e.w.fails(0, bad).contains("project link"));
    let good = create(
        "docs",
        "line one\nline two",
        Some("https://example.org"),
        &e.w,
    );
    let applied = e.w.ok(0, good);
    assert_eq!(
        applied.receipt.outcome.created(),
        Some(Created::Project {
            project: ProjectId(id.0 + 1)
        })
    );
}
