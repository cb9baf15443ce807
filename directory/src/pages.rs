//! The directory's HTML pages, rendered on the server. maud escapes every
//! interpolated string, so names, descriptions, memos and links a creator
//! wrote show as text.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::actions;
use super::data::{
    self, Context, CreatorsQuery, LedgerQuery, PledgePaid, ProjectsQuery, Sort, KINDS,
};
use super::format::{self, json_list, Assets};
use super::store::{Day, Funder, Invoice, Movement, Pledge, Ticket};
use super::{Error, Shared};

/// Most rows a CSV export holds.
pub const CSV_LIMIT: i64 = 50_000;

/// A page without the wallet: error pages and a directory that relays
/// nothing.
fn layout(title: &str, body: Markup) -> Markup {
    page(title, body, None, None)
}

/// A page; with `wallet` (the network wallets connect for), the wallet bar
/// and the script that runs the page's actions; with the mirror's context,
/// a footer naming the rollup, its kernel and the level the figures are at.
fn page(title: &str, body: Markup, wallet: Option<&str>, ctx: Option<&Context>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · pledgeroll directory" }
                link rel="stylesheet" href="/static/style.css";
                link rel="alternate" type="application/atom+xml" title="Directory activity" href="/feed.atom";
            }
            body {
                header {
                    nav {
                        a.brand href="/" { "pledgeroll" }
                        a href="/creators" { "Creators" }
                        a href="/projects" { "Projects" }
                        a href="/ledger" { "Ledger" }
                        a href="/about" { "About" }
                    }
                    @if let Some(network) = wallet { (actions::wallet_bar(network)) }
                }
                main { (body) }
                footer {
                    p { "Every figure comes from the indexer's mirror of the rollup; actions are signed by your own wallet." }
                    @if let Some(ctx) = ctx {
                        p.identity {
                            "Rollup " span.addr { (ctx.identity.rollup.as_deref().unwrap_or("not recorded yet")) }
                            " · kernel " span.addr { (ctx.identity.kernel_hash.as_deref().map_or("not kept by the node", short_hash)) }
                            " · indexed level " (ctx.head.as_ref().map_or(0, |h| h.level))
                            " · " a href="/about" { "how to check" }
                        }
                    }
                }
                @if wallet.is_some() {
                    script src="/static/vendor/beacon-dapp.min.js" defer {}
                    script src="/static/wallet.js" defer {}
                }
            }
        }
    }
}

/// A styled error page with `status` and a message for the visitor.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    layout(
        title,
        html! {
            h1 { (status.as_u16()) " " (title) }
            p.error { (message) }
            p { a href="/" { "Back to the directory" } }
        },
    )
}

/// The answer to any address the directory does not serve.
pub async fn not_found() -> Response {
    Error::NotFound("There is no page at this address.".to_owned()).into_response()
}

fn active_patrons(n: i64) -> String {
    if n == 1 {
        "1 active patron".to_owned()
    } else {
        format!("{n} active patrons")
    }
}

fn holder_link(holder: &str) -> Markup {
    match holder.strip_prefix("project-") {
        Some(id) => html! { a href={ "/projects/" (id) } { "project " (id) } },
        None => html! { a.addr href={ "/patrons/" (holder) } { (short(holder)) } },
    }
}

/// A hash's first sixteen hex digits, enough to compare by eye (the about
/// page shows it whole).
fn short_hash(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

fn short(address: &str) -> String {
    if address.len() > 14 {
        format!(
            "{}…{}",
            address.get(..8).unwrap_or(address),
            address.get(address.len() - 4..).unwrap_or("")
        )
    } else {
        address.to_owned()
    }
}

fn optional_holder(holder: Option<&str>) -> Markup {
    match holder {
        Some(h) => holder_link(h),
        None => html! { span.muted { "layer 1" } },
    }
}

fn movements_table(assets: &Assets, movements: &[Movement]) -> Markup {
    html! {
        @if movements.is_empty() {
            p.muted { "No movements yet." }
        } @else {
            div.scroll { table {
                thead { tr { th { "When" } th { "Kind" } th { "From" } th { "To" } th.num { "Amount" } th { "Memo" } } }
                tbody {
                    @for m in movements {
                        tr {
                            td { (format::time(m.happened_at)) br; span.muted { "level " (m.level) } }
                            td { (m.kind) }
                            td { (optional_holder(m.from_holder.as_deref())) }
                            td { (optional_holder(m.to_holder.as_deref())) }
                            td.num { (assets.amount_i64(m.asset_id, m.units)) }
                            td { @if let Some(memo) = &m.memo { bdi { (memo) } } }
                        }
                    }
                }
            } }
        }
    }
}

/// A creator's monthly income: the list's asset first, then the others
/// they are paid in.
fn monthly_income(assets: &Assets, c: &super::store::CreatorSummary, asset: i64) -> String {
    let mut parts = vec![assets.amount_i64(asset, c.income)];
    parts.extend(
        c.monthly_income
            .iter()
            .filter(|i| i.asset_id != asset)
            .map(|i| assets.amount_i64(i.asset_id, i.units)),
    );
    if c.income == 0 && parts.len() > 1 {
        parts.remove(0);
    }
    parts.join(" + ")
}

fn creator_cards(assets: &Assets, creators: &[super::store::CreatorSummary], asset: i64) -> Markup {
    html! {
        @if creators.is_empty() {
            p.muted { "No creators found." }
        } @else {
            ul.cards {
                @for c in creators {
                    li.card {
                        a.name href={ "/creators/" (c.address) } { bdi { (c.name) } }
                        @if c.paused { " " span.badge { "paused" } }
                        p.desc dir="auto" { (c.description) }
                        p.muted {
                            (active_patrons(c.active_patrons)) " · "
                            (monthly_income(assets, c, asset)) " a month"
                        }
                    }
                }
            }
        }
    }
}

fn sums(assets: &Assets, sums: &[super::store::AssetSum]) -> Markup {
    html! {
        @if sums.is_empty() { "0" } @else {
            @for (i, s) in sums.iter().enumerate() {
                @if i > 0 { ", " }
                (assets.amount_i64(s.asset_id, s.units))
            }
        }
    }
}

/// `/`: totals, newest and most supported creators, recent activity.
pub async fn home(State(s): State<Shared>) -> Result<Markup, Error> {
    let ctx = Context::load(&s.store).await?;
    let home = data::home(&s.store, &ctx).await?;
    let a = &ctx.assets;
    let t = &home.totals;
    Ok(page(
        "Home",
        html! {
            h1 { "The pledgeroll directory" }
            section.totals {
                div { span.big { (t.creators) } " creators" }
                div { span.big { (t.patrons) } " patrons" }
                div { "Monthly flow: " strong { (sums(a, &t.monthly_flow)) } }
                div { "Escrowed in projects: " strong { (sums(a, &t.escrowed)) } }
            }
            h2 { "Newest creators" }
            (creator_cards(a, &home.newest, 0))
            h2 { "Most supported" }
            (creator_cards(a, &home.most_supported, 0))
            h2 { "Recent activity" }
            (movements_table(a, &home.recent))
            p {
                a href="/ledger" { "The whole ledger →" }
                " · "
                a href="/feed.atom" { "Atom feed" }
            }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// `/creators`: search by name, sort by patrons or income, cursor pages.
pub async fn creators(
    State(s): State<Shared>,
    query: Result<Query<CreatorsQuery>, QueryRejection>,
) -> Result<Markup, Error> {
    let Query(query) = query?;
    let ctx = Context::load(&s.store).await?;
    let found = data::creators(&s.store, &query).await?;
    let asset = query.asset.unwrap_or(0);
    let sort = query.sort.unwrap_or(Sort::Patrons);
    let q = query.q.clone().unwrap_or_default();
    Ok(page(
        "Creators",
        html! {
            h1 { "Creators" }
            form.search method="get" action="/creators" {
                input type="search" name="q" value=(q) placeholder="Search by name" maxlength="64";
                select name="sort" {
                    option value="patrons" selected[sort == Sort::Patrons] { "Most patrons" }
                    option value="income" selected[sort == Sort::Income] { "Highest monthly income" }
                }
                input type="hidden" name="asset" value=(asset);
                button type="submit" { "Search" }
            }
            (creator_cards(&ctx.assets, &found.creators, asset))
            @if let Some(next) = &found.next {
                p.pager {
                    a href={ "/creators?q=" (urlencode(&q)) "&sort=" (if sort == Sort::Income { "income" } else { "patrons" }) "&asset=" (asset) "&after=" (urlencode(next)) } { "Next page →" }
                }
            }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// Every byte but RFC 3986's unreserved characters is percent-encoded in a
/// query-string value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query-string value.
pub fn urlencode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// An SVG line chart of monthly income per asset, one step per day.
/// A creator's monthly income by day and asset, up to `today` (days since
/// 1970): income stays at its last figure until it changes, so each line
/// runs on to today; an asset that never brought income has no chart.
pub fn income_chart(assets: &Assets, days: &[Day], today: i64) -> Markup {
    const W: f64 = 600.0;
    const H: f64 = 200.0;
    const PAD: f64 = 30.0;
    let mut series: std::collections::BTreeMap<i64, Vec<&Day>> = Default::default();
    for d in days {
        series.entry(d.asset_id).or_default().push(d);
    }
    series.retain(|_, points| points.iter().any(|d| d.monthly_in_units > 0));
    for points in series.values_mut() {
        points.sort_by_key(|d| d.day);
    }
    if series.is_empty() {
        return html! { p.muted { "No income recorded yet." } };
    }
    let charted = || series.values().flatten().map(|d| d.day);
    let first = charted().min().unwrap_or(today);
    let last = charted().max().unwrap_or(today).max(today);
    let span = (last - first).max(1) as f64;
    let x = |day: i64| PAD + (day - first) as f64 / span * (W - 2.0 * PAD);
    html! {
        div.charts {
            @for (i, (asset, points)) in series.iter().enumerate() {
                @let top = points.iter().map(|d| d.monthly_in_units).max().unwrap_or(0).max(1) as f64;
                @let y = |v: i64| H - PAD - v as f64 / top * (H - 2.0 * PAD);
                @let path = {
                    let mut p = String::new();
                    let mut prev: Option<f64> = None;
                    for d in points.iter() {
                        let (px, py) = (x(d.day), y(d.monthly_in_units));
                        if let Some(py0) = prev {
                            p.push_str(&format!(" L{px:.1},{py0:.1}"));
                        }
                        p.push_str(&format!("{}{px:.1},{py:.1}", if prev.is_some() { " L" } else { "M" }));
                        prev = Some(py);
                    }
                    if let Some(py) = prev { p.push_str(&format!(" L{:.1},{py:.1}", W - PAD)); }
                    p
                };
                figure {
                    svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label={ "Monthly income in " (assets.symbol(*asset)) } xmlns="http://www.w3.org/2000/svg" {
                        title { "Monthly income in " (assets.symbol(*asset)) }
                        line x1=(PAD) y1=(H - PAD) x2=(W - PAD) y2=(H - PAD) class="axis" {}
                        line x1=(PAD) y1=(PAD) x2=(PAD) y2=(H - PAD) class="axis" {}
                        text x=(PAD + 4.0) y=(PAD - 8.0) class="label" { (assets.amount_i64(*asset, top as i64)) " / month" }
                        text x=(PAD) y=(H - 8.0) class="label" { (format::date(first)) }
                        text x=(W - PAD) y=(H - 8.0) class="label" text-anchor="end" { (format::date(last)) }
                        path d=(path) class={ "series s" (i % 3) } fill="none" {}
                    }
                    figcaption { "Monthly income in " (assets.symbol(*asset)) ", by day" }
                }
            }
        }
    }
}

/// Pledges as rows; a patron's (`paid` given) with what each paid so far.
fn pledges_table(assets: &Assets, pledges: &[Pledge], paid: Option<&[PledgePaid]>) -> Markup {
    let by_patron = paid.is_some();
    let paid_by = |id: i64| {
        paid.unwrap_or_default()
            .iter()
            .find(|p| p.pledge_id == id)
            .map(|p| assets.amount_text(p.asset_id, &p.paid_units))
    };
    html! {
        @if pledges.is_empty() { p.muted { "No pledges yet." } } @else {
            div.scroll { table {
                thead { tr {
                    th { "Pledge" }
                    th { @if by_patron { "To" } @else { "Patron" } }
                    th.num { "Rate" } th.num { "Monthly" } @if by_patron { th.num { "Paid so far" } } th { "Status" } th { "Since" }
                } }
                tbody { @for p in pledges {
                    tr {
                        td { "#" (p.pledge_id) @if let Some(t) = p.tier_id { br; span.muted { "tier " (t) } } }
                        td { @if by_patron {
                            @if p.payee.starts_with("project-") { (holder_link(&p.payee)) }
                            @else { a.addr href={ "/creators/" (p.payee) } { (short(&p.payee)) } }
                        } @else { (holder_link(&p.patron)) } }
                        td.num { (assets.amount_text(p.asset_id, &p.amount_per_period)) " / " (format::period(p.period)) }
                        td.num { (assets.amount_i64(p.asset_id, p.monthly_units)) }
                        @if by_patron { td.num { (paid_by(p.pledge_id).unwrap_or_default()) } }
                        td { span class={ "badge " (p.status) } { (p.status) } @if let Some(r) = &p.reason { br; span.muted { (r.replace('_', " ")) } } }
                        td { (format::time(p.created_at)) }
                    }
                } }
            } }
        }
    }
}

/// `/creators/{address}`: profile, tiers, income chart, pledges and tips.
pub async fn creator(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Markup, Error> {
    let Path(address) = address?;
    let relays = s.relay.is_some();
    let ctx = Context::load(&s.store).await?;
    let Some(v) = data::creator(&s.store, &address).await? else {
        return Err(Error::NotFound(format!(
            "No creator has published a profile at {address}."
        )));
    };
    let a = &ctx.assets;
    let c = &v.creator;
    Ok(page(
        &c.name,
        html! {
            h1 { bdi { (c.name) } @if c.paused { " " span.badge.paused { "paused" } } }
            p.addr { (c.address) }
            p.desc dir="auto" { (c.description) }
            @let links = json_list(&c.links);
            @if !links.is_empty() {
                ul.links { @for l in &links { li {
                    @if l.starts_with("https://") || l.starts_with("http://") {
                        a href=(l) rel="nofollow noopener ugc" { (l) }
                    } @else { (l) }
                } } }
            }
            section.totals {
                div { span.big { (c.active_patrons) } " active patrons" }
                div { span.big { (c.patrons) } " patrons in all, paused pledges included" }
                @for b in &v.balances { @if b.monthly_in_units > 0 {
                    div { "Monthly income: " strong { (a.amount_i64(b.asset_id, b.monthly_in_units)) } }
                } }
            }
            h2 { "Tiers" }
            @if v.tiers.is_empty() { p.muted { "No tiers yet." } } @else {
                ul.cards { @for t in &v.tiers {
                    li.card {
                        strong { bdi { (t.title) } } @if t.retired { " " span.badge { "retired" } }
                        p { (a.amount_text(t.asset_id, &t.amount_per_period)) " per " (format::period(t.period)) }
                        p.desc dir="auto" { (t.perks) }
                        p.muted { "Tier #" (t.tier_id) " · " (active_patrons(t.active_patrons))
                            @if let Some(limit) = t.patron_limit { " · " (t.patrons) " of " (limit) " places taken" } }
                        @if relays { (actions::pledge_to_tier(a, t)) }
                    }
                } }
            }
            @if relays { (actions::tip(&c.address, &a.symbols())) }
            h2 { "Monthly income over time" }
            (income_chart(a, &v.days, ctx.today()))
            h2 { "Recent pledges" }
            (pledges_table(a, &v.pledges, None))
            h2 { "Recent tips" }
            (movements_table(a, &v.tips))
            p {
                a href={ "/ledger?account=" (urlencode(&c.address)) } { "All movements →" }
                " · "
                a href={ "/creators/" (c.address) "/feed.atom" } { "Atom feed" }
                " · "
                a href={ "/creators/" (c.address) "/income.csv" } { "Income by day (CSV)" }
                " · "
                a href={ "/accounts/" (c.address) "/feed.atom" } { "Alerts for this account (Atom)" }
            }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// `/studio/{address}`: the creator studio, where the connected creator
/// publishes their profile, adds and retires tiers, pauses and resumes,
/// and withdraws. Its forms show only to that account's wallet.
pub async fn studio(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Markup, Error> {
    let Path(address) = address?;
    if address.parse::<pledgeroll_contracts::Address>().is_err() {
        return Err(Error::BadRequest(format!(
            "{address} is not a tz1, tz2 or tz3 address"
        )));
    }
    let relays = s.relay.is_some();
    let ctx = Context::load(&s.store).await?;
    let view = data::creator(&s.store, &address).await?;
    let a = &ctx.assets;
    let links = view
        .as_ref()
        .map(|v| json_list(&v.creator.links))
        .unwrap_or_default();
    let profile = view.as_ref().map(|v| {
        (
            v.creator.name.as_str(),
            v.creator.description.as_str(),
            links.as_slice(),
        )
    });
    let tiers = view.as_ref().map_or(&[][..], |v| v.tiers.as_slice());
    let paused = view.as_ref().is_some_and(|v| v.creator.paused);
    Ok(page(
        "Creator studio",
        html! {
            h1 { "Creator studio" }
            p.addr { (address) }
            @match &view {
                Some(v) => p { "Your public page: " a href={ "/creators/" (address) } { (v.creator.name) } },
                None => p.muted { "No profile yet: publish one to appear in the directory, then add tiers." },
            }
            @if relays {
                p data-without-wallet { "Connect the wallet of " span.addr { (address) } " to manage this page." }
                (actions::studio(&address, profile, tiers, paused, a))
            } @else {
                p.muted { "This directory relays no operations; the pledgeroll wallet manages a creator page from the command line (`pledgeroll creator --help`)." }
            }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// `/patrons/{address}`: pledges with rates, runway and history.
pub async fn patron(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Markup, Error> {
    let Path(address) = address?;
    let relays = s.relay.is_some();
    let ctx = Context::load(&s.store).await?;
    let v = data::patron(&s.store, &ctx, &address).await?;
    let a = &ctx.assets;
    let now = ctx.now();
    Ok(page(
        "Patron",
        html! {
            h1 { "Patron" }
            p.addr { (v.address) }
            h2 { "Runway" }
            @if v.runway.is_empty() { p.muted { "No balance." } } @else {
                ul.cards { @for r in &v.runway { li.card {
                    strong { (a.amount(r.asset_id, r.balance_units)) }
                    p { "Pledging " (a.amount_i64(r.asset_id, r.monthly_out_units)) " a month" }
                    p.muted { @match r.runs_out_at {
                        Some(t) if t > now => { "Runs out " (format::time(t)) " (in " (format::span(t - now)) ")" }
                        Some(t) => { "Ran out " (format::time(t)) }
                        None => { "Does not run out at these rates" }
                    } }
                } } }
            }
            h2 #pledges { "Pledges" }
            (pledges_table(a, &v.pledges, Some(&v.paid)))
            @if relays { @for p in &v.pledges { (actions::my_pledge(&v.address, p)) } }
            h2 { "History" }
            (movements_table(a, &v.history))
            p {
                a href={ "/ledger?account=" (urlencode(&v.address)) } { "All movements →" }
                " · "
                a href={ "/accounts/" (v.address) "/feed.atom" } { "Alerts for this account (Atom)" }
            }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// `/projects`: every project with its escrow.
pub async fn projects(
    State(s): State<Shared>,
    query: Result<Query<ProjectsQuery>, QueryRejection>,
) -> Result<Markup, Error> {
    let Query(query) = query?;
    let ctx = Context::load(&s.store).await?;
    let found = data::projects(&s.store, &ctx, &query).await?;
    let a = &ctx.assets;
    Ok(page(
        "Projects",
        html! {
            h1 { "Projects" }
            @if found.projects.is_empty() { p.muted { "No projects yet." } } @else {
                ul.cards { @for p in &found.projects { li.card {
                    a.name href={ "/projects/" (p.project.project_id) } { bdi { (p.project.title) } }
                    " " span.badge { (p.project.status) }
                    p.desc dir="auto" { (p.project.description) }
                    p.muted { "Escrow: " (sums(a, &p.escrow)) " · " (p.project.tickets) " tickets · " (p.project.invoices) " invoices" }
                } } }
            }
            @if let Some(next) = found.next {
                p.pager { a href={ "/projects?before=" (next) } { "Older →" } }
            }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// `/projects/{id}`: escrow, commissioners, tickets, invoices, funders.
pub async fn project(
    State(s): State<Shared>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Markup, Error> {
    let Path(id) = id?;
    let relays = s.relay.is_some();
    let ctx = Context::load(&s.store).await?;
    let Some(v) = data::project(&s.store, &ctx, id).await? else {
        return Err(Error::NotFound(format!("There is no project {id}.")));
    };
    let a = &ctx.assets;
    let p = &v.project;
    let now = ctx.now();
    let commissioners = json_list(&p.commissioners);
    let commissioner_refs: Vec<&str> = commissioners.iter().map(String::as_str).collect();
    let vetoers: Vec<&str> = commissioner_refs
        .iter()
        .copied()
        .chain(p.patron.as_deref())
        .collect();
    let funders: Vec<&str> = v
        .funders
        .iter()
        .filter(|f| !f.reclaimed)
        .map(|f| f.funder.as_str())
        .collect();
    let (open, settled): (Vec<_>, Vec<_>) = v.invoices.iter().partition(|i| i.status == "open");
    Ok(page(
        &p.title,
        html! {
            h1 { bdi { (p.title) } " " span.badge { (p.status) } }
            p.desc dir="auto" { (p.description) }
            @if let Some(link) = &p.link {
                p { @if link.starts_with("https://") || link.starts_with("http://") {
                    a href=(link) rel="nofollow noopener ugc" { (link) } } @else { (link) } }
            }
            section.totals {
                div { "Escrow: " strong { (sums(a, &v.escrow)) } }
                div { (p.mode) " project · time-lock " (format::span(p.time_lock)) }
                div { @if p.status == "refunding" {
                    "Refunds are open: every funder may reclaim their share."
                } @else if p.paid_any {
                    "An invoice has paid: refunds open only if the commissioners approve them."
                } @else {
                    "Refunds open " (format::time(p.refund_deadline)) " if nothing has paid"
                } }
            }
            h2 { "Commissioners" }
            p { "Threshold: " strong { (p.threshold) " of " (commissioners.len()) } " commissioners' approvals pay an invoice at once." }
            ul { @for c in &commissioners { li { (holder_link(c)) } } }
            @if let Some(patron) = &p.patron {
                p { "Funding patron: " (holder_link(patron)) ", who may veto any invoice within its veto window." }
            }
            p.muted { "Created by " (holder_link(&p.creator)) }
            (project_tickets(a, &v.tickets))
            (open_invoices(a, &open, p.threshold, now))
            (settled_invoices(a, &settled))
            (project_funders(a, &v.funders))
            @if relays {
                h2 { "Act on this project" }
                @let refunding = p.status == "refunding";
                @if !refunding { (actions::fund(p.project_id)) }
                @if refunding || (!p.paid_any && now >= p.refund_deadline) {
                    (actions::reclaim(p.project_id, &funders))
                }
                (actions::commission(a, p.project_id, &commissioner_refs, &vetoers, &v.tickets, &open, refunding))
            }
            p { a href={ "/ledger?account=project-" (p.project_id) } { "All movements →" } }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// A project's tickets, with their budgets and state.
fn project_tickets(a: &Assets, tickets: &[Ticket]) -> Markup {
    html! {
    h2 { "Tickets" }
    @if tickets.is_empty() { p.muted { "No tickets yet." } } @else {
        div.scroll { table {
            thead { tr { th { "#" } th { "Title" } th { "Budget" } th { "State" } } }
            tbody { @for t in tickets { tr {
                td { (t.ticket_no) }
                td { @match &t.url {
                    Some(u) if u.starts_with("https://") || u.starts_with("http://") => { a href=(u) rel="nofollow noopener ugc" { bdi { (t.title) } } }
                    Some(u) => { bdi { (t.title) } " (" (u) ")" }
                    None => { bdi { (t.title) } }
                } }
                td { @if let (Some(asset), Some(amount)) = (t.budget_asset_id, &t.budget_amount) { (a.amount_text(asset, amount)) } }
                td { @if t.closed { "closed" } @else { "open" } }
            } } }
        } }
    }
    }
}

/// A project's open invoices, with approvals, vetoes and time-locks.
fn open_invoices(a: &Assets, open: &[&Invoice], threshold: i64, now: i64) -> Markup {
    html! {
    h2 { "Open invoices" }
    @if open.is_empty() { p.muted { "No open invoices." } } @else {
        div.scroll { table {
            thead { tr { th { "#" } th { "Ticket" } th { "To" } th.num { "Amount" } th { "Approvals" } th { "Vetoes" } th { "Time-lock" } } }
            tbody { @for i in open { tr {
                td { (i.invoice_no) }
                td { (i.ticket_no) }
                td { (holder_link(&i.beneficiary)) }
                td.num { (a.amount_text(i.asset_id, &i.amount)) }
                td { (json_list(&i.approvals).len()) " of " (threshold) }
                td { (json_list(&i.vetoes).len()) }
                td { @if !json_list(&i.vetoes).is_empty() {
                    "vetoed: pays only with " (threshold) " approvals"
                } @else if i.unlocks_at > now {
                    "unlocks in " (format::span(i.unlocks_at - now))
                } @else { "unlocked" } }
            } } }
        } }
    }
    }
}

/// A project's paid and withdrawn invoices.
fn settled_invoices(a: &Assets, settled: &[&Invoice]) -> Markup {
    html! {
    h2 { "Paid and withdrawn invoices" }
    @if settled.is_empty() { p.muted { "None yet." } } @else {
        div.scroll { table {
            thead { tr { th { "#" } th { "To" } th.num { "Amount" } th { "Status" } th { "When" } } }
            tbody { @for i in settled { tr {
                td { (i.invoice_no) }
                td { (holder_link(&i.beneficiary)) }
                td.num { (a.amount_text(i.asset_id, &i.amount)) }
                td { (i.status) }
                td { @if let Some(t) = i.settled_at { (format::time(t)) } }
            } } }
        } }
    }
    }
}

/// A project's funders and what they gave at once.
fn project_funders(a: &Assets, funders: &[Funder]) -> Markup {
    html! {
    h2 { "Funders" }
    @if funders.is_empty() { p.muted { "No funders yet." } } @else {
        div.scroll { table {
            thead { tr { th { "Funder" } th.num { "One-off funding" } th { "Refund" } } }
            tbody { @for f in funders { tr {
                td { (holder_link(&f.funder)) }
                td.num { @if let (Some(asset), Some(fine)) = (f.asset_id, &f.one_off) {
                    (a.amount_fine(asset, fine.parse().unwrap_or(0))) } @else { "streams" } }
                td { @if f.reclaimed { "reclaimed" } }
            } } }
        } }
    }
    }
}

/// `/ledger`: every movement, filtered by account, asset and kind.
pub async fn ledger(
    State(s): State<Shared>,
    query: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Markup, Error> {
    let Query(query) = query?;
    let ctx = Context::load(&s.store).await?;
    let found = data::ledger(&s.store, &query, None).await?;
    let account = query.account.clone().unwrap_or_default();
    let kind = query.kind.clone().unwrap_or_default();
    let filters = format!(
        "account={}&asset={}&kind={}",
        urlencode(&account),
        query.asset.map(|a| a.to_string()).unwrap_or_default(),
        urlencode(&kind)
    );
    Ok(page(
        "Ledger",
        html! {
            h1 { "Ledger" }
            form.search method="get" action="/ledger" {
                input type="text" name="account" value=(account) placeholder="Account or project-N" maxlength="64";
                input type="number" name="asset" min="0" value=[query.asset] placeholder="Asset";
                select name="kind" {
                    option value="" { "Any kind" }
                    @for k in KINDS { option value=(k) selected[kind == k] { (k) } }
                }
                button type="submit" { "Filter" }
            }
            p { a href={ "/ledger.csv?" (PreEscaped(&filters)) } { "Download as CSV" } }
            (movements_table(&ctx.assets, &found.movements))
            @if let Some(next) = &found.next {
                p.pager { a href={ "/ledger?" (PreEscaped(&filters)) "&before=" (next) } { "Older →" } }
            }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}

/// The columns of `/ledger.csv`.
const LEDGER_CSV_COLUMNS: [&str; 14] = [
    "level",
    "idx",
    "time",
    "time_utc",
    "kind",
    "from",
    "to",
    "asset_id",
    "asset",
    "units",
    "amount",
    "pledge_id",
    "project_id",
    "memo",
];

/// A CSV answer of `rows` under `columns`, to be saved as `filename`. A
/// spreadsheet reads a cell starting with `=`, `+`, `-` or `@` (or a tab or
/// carriage return before one) as a formula: such cells, which only a memo
/// can hold, are written with a leading `'` (OWASP's rule).
fn csv_answer(
    filename: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Response, Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let failed = |e: csv::Error| Error::Internal(format!("writing CSV: {e}"));
    out.write_record(columns).map_err(failed)?;
    for row in rows {
        out.write_record(row.iter().map(|c| format::spreadsheet_safe(c)))
            .map_err(failed)?;
    }
    let out = out
        .into_inner()
        .map_err(|e| Error::Internal(format!("writing CSV: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        out,
    )
        .into_response())
}

/// `/ledger.csv`: the filtered ledger as CSV, newest first, amounts in
/// base units and in the asset's decimals.
pub async fn ledger_csv(
    State(s): State<Shared>,
    query: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query?;
    let ctx = Context::load(&s.store).await?;
    let page = data::ledger(&s.store, &query, Some(CSV_LIMIT)).await?;
    let rows = page.movements.iter().map(|m| {
        let unit = ctx.assets.unit(m.asset_id);
        let units = u128::try_from(m.units).unwrap_or(0);
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        vec![
            m.level.to_string(),
            m.idx.to_string(),
            m.happened_at.to_string(),
            format::instant(m.happened_at),
            m.kind.clone(),
            m.from_holder.clone().unwrap_or_default(),
            m.to_holder.clone().unwrap_or_default(),
            m.asset_id.to_string(),
            unit.symbol.clone(),
            m.units.to_string(),
            format::decimal(units, unit.decimals),
            opt(m.pledge_id),
            opt(m.project_id),
            m.memo.clone().unwrap_or_default(),
        ]
    });
    csv_answer("ledger.csv", &LEDGER_CSV_COLUMNS, rows)
}

/// The columns of a creator's `income.csv`.
const INCOME_CSV_COLUMNS: [&str; 11] = [
    "date",
    "asset_id",
    "asset",
    "streamed_in",
    "tips_in",
    "transfers_in",
    "payouts_in",
    "funding_in",
    "refunds_in",
    "income",
    "monthly_income",
];

/// `/creators/{address}/income.csv`: what a creator received day by day
/// (UTC), per asset, streams included whether settled or not, in the
/// asset's decimals (rounded down to its base unit).
pub async fn income_csv(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    let Path(address) = address?;
    let ctx = Context::load(&s.store).await?;
    if data::creator_profile(&s.store, &address).await?.is_none() {
        return Err(Error::NotFound(format!(
            "No creator has published a profile at {address}."
        )));
    }
    let days = data::income_by_day(&s.store, &address, ctx.now()).await?;
    let rows = days.iter().map(|d| {
        let unit = ctx.assets.unit(d.asset_id);
        let amount = |fine: u128| {
            format::decimal(
                fine / pledgeroll_contracts::asset::FINE_PER_UNIT,
                unit.decimals,
            )
        };
        vec![
            pledgeroll_contracts::units::format_date(d.day),
            d.asset_id.to_string(),
            unit.symbol.clone(),
            amount(d.streamed_in),
            amount(d.tips_in),
            amount(d.transfers_in),
            amount(d.payouts_in),
            amount(d.funding_in),
            amount(d.refunds_in),
            amount(d.total()),
            format::decimal(
                u128::try_from(d.monthly_in_units).unwrap_or(0),
                unit.decimals,
            ),
        ]
    });
    csv_answer("income.csv", &INCOME_CSV_COLUMNS, rows)
}

/// `/about`: the rollup, the kernel, the indexed level and the lag.
pub async fn about(State(s): State<Shared>) -> Result<Markup, Error> {
    let ctx = Context::load(&s.store).await?;
    let v = data::about(&ctx);
    Ok(page(
        "About",
        html! {
            h1 { "About this directory" }
            dl {
                dt { "Rollup" }
                dd.addr { @match &v.rollup { Some(r) => { (r) } None => { "not recorded yet (the indexer records it when it first follows a node)" } } }
                dt { "Kernel" }
                dd { @match &v.kernel_hash {
                    Some(h) => { span.addr { (h) } br;
                        "The blake2b-256 hash of the kernel the node runs (" code { "/kernel/boot.wasm" } "), recorded when the mirror first followed it; the mirror stops if it ever changes. "
                        code { "scripts/build-kernel" } " prints the same hash for a build of pledgeroll's source: build it and compare." }
                    None => { "The node keeps no kernel at " code { "/kernel/boot.wasm" } " (a sandbox running its kernel natively); compare the state hash below with the rollup node's to check it runs the same kernel." }
                } }
                dt { "Indexed level" }
                dd { @match &v.head {
                    Some(h) => {
                        (h.level) " (block " span.addr { (h.block_hash) } ")"
                        @if let Some(t) = h.level_time { br; "rollup time " (format::time(t)) }
                        @if let Some(sh) = &h.state_hash { br; "state hash " span.addr { (sh) } }
                    }
                    None => { "nothing indexed yet" }
                } }
                dt { "Lag" }
                dd { @match v.lag_seconds {
                    Some(l) => { (format::span(l)) " since the rollup time of the indexed level" }
                    None => { "unknown" }
                } }
            }
            h2 #deposit { "Depositing" }
            p { "Pledges and tips are paid from what you hold on the rollup. Money comes in from layer 1: tez or any other asset is sent as a ticket to the rollup "
                @match &v.rollup { Some(r) => { span.addr { (r) } } None => { "(its address is shown above once indexed)" } }
                ", with your tz address as the receiver." }
            p { "The pledgeroll wallet prints the exact layer-1 call, for octez-client or any wallet that calls contracts: "
                code { "pledgeroll deposit \"10 tez\" --to tz1…" } ". Withdrawals go back the same way, to your own account unless you name another." }
            h2 { "No admin key" }
            p { "The pledgeroll kernel has no admin key: no one can move funds, change a pledge or upgrade the rules except through the operations every account can sign." }
            p { "The JSON API is under " a href="/api/v1/totals" { "/api/v1" } "." }
        },
        s.wallet_network(),
        Some(&ctx),
    ))
}
