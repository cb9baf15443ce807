//! The pages' actions: forms a connected wallet signs through.
//!
//! Each action is a `form.action` whose `data-op` is the operation's kind
//! and whose fields are the operation's, as the builder reads them
//! ([`pledgeroll_client::Request`]); `static/wallet.js` builds, signs,
//! relays and follows it. Forms are hidden until a wallet is connected,
//! and those with `data-for` only show for the accounts it lists, so a page
//! read without JavaScript, or by someone else, shows only its figures.

use maud::{html, Markup};

use super::format::{self, Assets};
use super::store::{Invoice, Pledge, Ticket, Tier};

/// Periods a tier can be priced by, with their names in the builder.
const PERIODS: [(&str, &str); 5] = [
    ("month", "Month (30 days)"),
    ("week", "Week"),
    ("day", "Day"),
    ("year", "Year (365 days)"),
    ("hour", "Hour"),
];

/// One action: a form for `op` with its fields, the button, the words the
/// wallet will show once built, and where progress is said. `only_for`:
/// the accounts it is shown to (anyone connected when empty).
fn action(op: &str, only_for: &[&str], legend: &str, fields: Markup, button: &str) -> Markup {
    let only_for = only_for.join(" ");
    html! {
        form.action data-op=(op) data-needs-wallet data-for=(only_for) hidden {
            fieldset {
                legend { (legend) }
                (fields)
                button type="submit" { (button) }
            }
            pre.action-words hidden aria-label="The words your wallet shows" {}
            p.action-status role="status" aria-live="polite" {}
        }
    }
}

/// A hidden field the form carries as a number.
fn number(name: &str, value: i64) -> Markup {
    html! { input type="hidden" name=(name) value=(value) data-number; }
}

/// A hidden text field.
fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

/// A labelled text field; `hint` shows as the placeholder and after it.
fn field(name: &str, label: &str, hint: &str, required: bool) -> Markup {
    html! {
        label {
            span { (label) }
            input type="text" name=(name) placeholder=(hint) required[required] autocomplete="off";
        }
    }
}

/// The wallet bar: connect, the connected account with links to its
/// pledges and studio, and messages. Shown by `wallet.js`.
pub fn wallet_bar(network: &str) -> Markup {
    html! {
        div #wallet .wallet data-network=(network) hidden {
            button #wallet-connect type="button" { "Connect a wallet" }
            span #wallet-account hidden {
                "Connected as " a #wallet-address .addr href="#" {} " · "
                a #wallet-pledges href="#" { "My pledges" } " · "
                a #wallet-studio href="#" { "Creator studio" } " · "
                button #wallet-disconnect type="button" { "Disconnect" }
            }
            span #wallet-message role="status" aria-live="polite" {}
        }
    }
}

/// A creator page's actions on a tier: pledge at or above its price.
pub fn pledge_to_tier(a: &Assets, tier: &Tier) -> Markup {
    if tier.retired {
        return html! {};
    }
    let price = a.amount_text(tier.asset_id, &tier.amount_per_period);
    let per = format::period(tier.period);
    action(
        "pledge",
        &[],
        &format!("Pledge to “{}”", tier.title),
        html! {
            (number("tier", tier.tier_id))
            (field("amount", &format!("Amount per {per} (at least {price})"), &price, false))
            label { span { "Ends on (optional)" } input type="date" name="until"; }
            (field("cap", "Never pay more than, in all (optional)", &format!("e.g. 50 {}", a.symbol(tier.asset_id)), false))
        },
        "Pledge",
    )
}

/// A creator page's tip.
pub fn tip(to: &str, symbols: &[String]) -> Markup {
    let example = symbols.first().map_or("tez", String::as_str);
    action(
        "tip",
        &[],
        "Send a tip",
        html! {
            (hidden("to", to))
            (field("amount", "Amount", &format!("e.g. 5 {example}"), true))
            (field("memo", "Message (optional)", "Thank you!", false))
        },
        "Tip",
    )
}

/// A patron's own actions on one of their pledges.
pub fn my_pledge(patron: &str, p: &Pledge) -> Markup {
    if p.status == "ended" {
        return html! {};
    }
    let id = p.pledge_id;
    let one = |op: &str, button: &str| {
        action(
            op,
            &[patron],
            &format!("Pledge #{id}"),
            number("pledge", id),
            button,
        )
    };
    html! {
        div.actions {
            @if p.status == "active" { (one("pause_pledge", "Pause")) }
            @if p.status == "paused" && p.reason.as_deref() != Some("by_creator") { (one("resume_pledge", "Resume")) }
            (one("cancel_pledge", "Cancel"))
            @if p.tier_id.is_some() {
                (action("change_pledge", &[patron], &format!("Move pledge #{id} to another tier"), html! {
                    (number("pledge", id))
                    label { span { "New tier number" } input type="number" name="tier" min="0" required data-number; }
                    (field("amount", "Amount per period (optional, at least the tier's price)", "", false))
                }, "Change tier"))
            }
        }
    }
}

/// The creator studio's actions: profile, tiers, pause and resume,
/// withdraw.
pub fn studio(
    creator: &str,
    profile: Option<(&str, &str, &[String])>,
    tiers: &[Tier],
    paused: bool,
    a: &Assets,
) -> Markup {
    let (name, description, links) = profile.unwrap_or(("", "", &[]));
    let me = [creator];
    html! {
        (action("set_profile", &me, "Profile", html! {
            label { span { "Name" } input type="text" name="name" value=(name) required autocomplete="off"; }
            label { span { "What you make" } textarea name="description" rows="3" { (description) } }
            label { span { "Links (one per line)" } textarea name="links" rows="2" data-list { (links.join("\n")) } }
        }, "Publish profile"))
        (action("add_tier", &me, "Add a tier", html! {
            (field("title", "Title", "Supporter", true))
            label { span { "What patrons get" } textarea name="perks" rows="2" {} }
            (field("price", "Price per period", "e.g. 5 tez", true))
            label { span { "Period" } select name="period" {
                @for (value, label) in PERIODS { option value=(value) { (label) } }
            } }
            label { span { "Most patrons (optional)" } input type="number" name="patron_limit" min="1" data-number; }
        }, "Add tier"))
        @for t in tiers { @if !t.retired {
            (action("retire_tier", &me, &format!("Tier #{}: {} ({} per {})", t.tier_id, t.title,
                a.amount_text(t.asset_id, &t.amount_per_period), format::period(t.period)),
                number("tier", t.tier_id), "Retire tier"))
        } }
        @if paused {
            (action("resume_creator", &me, "Your pledges are paused", html! {}, "Resume all pledges"))
        } @else {
            (action("pause_creator", &me, "Take a break", html! {
                p.muted { "Pausing stops every pledge to you until you resume; patrons pay nothing meanwhile." }
            }, "Pause all pledges"))
        }
        (action("withdraw", &me, "Withdraw to layer 1", html! {
            (field("amount", "Amount", "e.g. 20 tez", true))
            (field("destination", "To (optional: your own account otherwise)", "tz1… or KT1…", false))
        }, "Withdraw"))
    }
}

/// A project page's actions for anyone: fund it.
pub fn fund(project: i64) -> Markup {
    action(
        "fund",
        &[],
        "Fund this project",
        html! {
            (number("project", project))
            (field("amount", "Amount", "e.g. 100 tez", true))
        },
        "Fund",
    )
}

/// A project page's actions for its commissioners (and, for vetoes, a
/// private project's funding patron).
pub fn commission(
    a: &Assets,
    project: i64,
    commissioners: &[&str],
    vetoers: &[&str],
    tickets: &[Ticket],
    open: &[&Invoice],
    refunding: bool,
) -> Markup {
    html! {
        @if !refunding {
            (action("open_ticket", commissioners, "Open a ticket", html! {
                (number("project", project))
                (field("title", "Title", "Fix the login bug", true))
                (field("url", "Issue link (optional)", "https://…", false))
                (field("budget", "Budget (optional)", "e.g. 200 tez", false))
            }, "Open ticket"))
            (action("raise_invoice", commissioners, "Raise an invoice", html! {
                (number("project", project))
                label { span { "Ticket number (a closed ticket)" } input type="number" name="ticket" min="0" required data-number; }
                (field("amount", "Amount", "e.g. 150 tez", true))
                (field("beneficiary", "Paid to", "tz1…", true))
            }, "Raise invoice"))
        }
        @for t in tickets { @if !t.closed {
            (action("close_ticket", commissioners, &format!("Ticket #{}: {}", t.ticket_no, t.title), html! {
                (number("project", project)) (number("ticket", t.ticket_no))
            }, "Close ticket"))
        } }
        @for i in open {
            @let what = format!("Invoice #{}: {} to {}", i.invoice_no, a.amount_text(i.asset_id, &i.amount), i.beneficiary);
            @let fields = html! { (number("project", project)) (number("invoice", i.invoice_no)) };
            div.actions {
                (action("approve", commissioners, &what, fields.clone(), "Approve"))
                (action("veto", vetoers, &what, fields, "Veto"))
            }
        }
        @if !refunding {
            (action("approve_refund", commissioners, "Give the funds back", html! {
                (number("project", project))
                p.muted { "Enough approvals open refunds: every funder may then reclaim their share." }
            }, "Approve refunds"))
        }
    }
}

/// A project page's reclaim, for its funders once refunds are open.
pub fn reclaim(project: i64, funders: &[&str]) -> Markup {
    action(
        "reclaim",
        funders,
        "Reclaim your share",
        number("project", project),
        "Reclaim",
    )
}
