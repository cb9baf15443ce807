-- The pledgeroll mirror (SQLite). migrations/postgres holds the same schema
-- for Postgres; src/rows.rs documents every column and a test checks both
-- against it. Exact amounts are decimal TEXT; `_units` columns hold base
-- units for sorting.

CREATE TABLE indexer_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    level INTEGER NOT NULL,
    block_hash TEXT NOT NULL
);

CREATE TABLE indexer_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE indexer_undo (
    level INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    image TEXT,
    PRIMARY KEY (level, seq)
);

CREATE TABLE levels (
    level INTEGER PRIMARY KEY,
    block_hash TEXT NOT NULL,
    predecessor TEXT NOT NULL,
    level_time INTEGER,
    state_hash TEXT,
    events INTEGER NOT NULL,
    receipts INTEGER NOT NULL,
    notices INTEGER NOT NULL,
    fault TEXT
);

CREATE TABLE accounts (
    address TEXT PRIMARY KEY,
    public_key TEXT,
    revealed_level INTEGER,
    first_level INTEGER NOT NULL
);

CREATE TABLE assets (
    asset_id INTEGER PRIMARY KEY,
    ticketer TEXT NOT NULL,
    token_id TEXT NOT NULL,
    metadata TEXT,
    deposited TEXT NOT NULL,
    withdrawn TEXT NOT NULL,
    supply_units INTEGER NOT NULL,
    registered_level INTEGER NOT NULL
);

CREATE TABLE balances (
    holder TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    project_id INTEGER,
    settled TEXT NOT NULL,
    at INTEGER NOT NULL,
    inflow TEXT NOT NULL,
    outflow TEXT NOT NULL,
    depletion_scheduled INTEGER,
    settled_units INTEGER NOT NULL,
    monthly_in_units INTEGER NOT NULL,
    monthly_out_units INTEGER NOT NULL,
    updated_level INTEGER NOT NULL,
    PRIMARY KEY (holder, asset_id)
);
-- Creators by monthly income in an asset; holders by balance.
CREATE INDEX balances_income ON balances (asset_id, monthly_in_units DESC, holder);
CREATE INDEX balances_units ON balances (asset_id, settled_units DESC, holder);

CREATE TABLE creators (
    address TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL,
    links TEXT NOT NULL,
    paused BOOLEAN NOT NULL,
    tiers INTEGER NOT NULL,
    patrons INTEGER NOT NULL,
    active_patrons INTEGER NOT NULL,
    created_level INTEGER NOT NULL,
    updated_level INTEGER NOT NULL
);
CREATE INDEX creators_patrons ON creators (patrons DESC, address);
CREATE INDEX creators_active_patrons ON creators (active_patrons DESC, address);
CREATE INDEX creators_name ON creators (name_lower, address);

CREATE TABLE tiers (
    tier_id INTEGER PRIMARY KEY,
    creator TEXT NOT NULL,
    title TEXT NOT NULL,
    perks TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    amount_per_period TEXT NOT NULL,
    period INTEGER NOT NULL,
    monthly_units INTEGER NOT NULL,
    patron_limit INTEGER,
    patrons INTEGER NOT NULL,
    active_patrons INTEGER NOT NULL,
    retired BOOLEAN NOT NULL,
    created_level INTEGER NOT NULL,
    updated_level INTEGER NOT NULL
);
CREATE INDEX tiers_creator ON tiers (creator, tier_id);

CREATE TABLE pledges (
    pledge_id INTEGER PRIMARY KEY,
    patron TEXT NOT NULL,
    payee TEXT NOT NULL,
    project_id INTEGER,
    tier_id INTEGER,
    asset_id INTEGER NOT NULL,
    amount_per_period TEXT NOT NULL,
    period INTEGER NOT NULL,
    rate TEXT NOT NULL,
    monthly_units INTEGER NOT NULL,
    end_time INTEGER,
    cap TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    created_at INTEGER NOT NULL,
    streamed TEXT NOT NULL,
    since INTEGER NOT NULL,
    end_scheduled INTEGER,
    created_level INTEGER NOT NULL,
    updated_level INTEGER NOT NULL
);
-- A patron's pledges; a payee's (creator's or project's) recent pledges;
-- a tier's patrons by status.
CREATE INDEX pledges_patron ON pledges (patron, pledge_id);
CREATE INDEX pledges_payee ON pledges (payee, pledge_id);
CREATE INDEX pledges_tier ON pledges (tier_id, status, pledge_id);

CREATE TABLE projects (
    project_id INTEGER PRIMARY KEY,
    creator TEXT NOT NULL,
    title TEXT NOT NULL,
    title_lower TEXT NOT NULL,
    description TEXT NOT NULL,
    link TEXT,
    commissioners TEXT NOT NULL,
    threshold INTEGER NOT NULL,
    mode TEXT NOT NULL,
    patron TEXT,
    time_lock INTEGER NOT NULL,
    refund_deadline INTEGER NOT NULL,
    status TEXT NOT NULL,
    paid_any BOOLEAN NOT NULL,
    tickets INTEGER NOT NULL,
    invoices INTEGER NOT NULL,
    assets TEXT NOT NULL,
    refund_approvals TEXT NOT NULL,
    created_level INTEGER NOT NULL,
    updated_level INTEGER NOT NULL
);
CREATE INDEX projects_title ON projects (title_lower, project_id);

CREATE TABLE escrows (
    project_id INTEGER NOT NULL,
    asset_id INTEGER NOT NULL,
    reserved TEXT NOT NULL,
    paid_out TEXT NOT NULL,
    funded TEXT NOT NULL,
    refund_pool TEXT,
    refund_contributions TEXT,
    refund_claimed_contributions TEXT,
    refund_claimed TEXT,
    updated_level INTEGER NOT NULL,
    PRIMARY KEY (project_id, asset_id)
);

CREATE TABLE tickets (
    project_id INTEGER NOT NULL,
    ticket_no INTEGER NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    budget_asset_id INTEGER,
    budget_amount TEXT,
    opened_by TEXT NOT NULL,
    closed BOOLEAN NOT NULL,
    created_level INTEGER NOT NULL,
    updated_level INTEGER NOT NULL,
    PRIMARY KEY (project_id, ticket_no)
);

CREATE TABLE invoices (
    project_id INTEGER NOT NULL,
    invoice_no INTEGER NOT NULL,
    ticket_no INTEGER NOT NULL,
    raised_by TEXT NOT NULL,
    beneficiary TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    amount TEXT NOT NULL,
    approvals TEXT NOT NULL,
    vetoes TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    unlocks_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    settled_at INTEGER,
    created_level INTEGER NOT NULL,
    updated_level INTEGER NOT NULL,
    PRIMARY KEY (project_id, invoice_no)
);
CREATE INDEX invoices_beneficiary ON invoices (beneficiary, project_id, invoice_no);

CREATE TABLE funders (
    project_id INTEGER NOT NULL,
    funder TEXT NOT NULL,
    reclaimed BOOLEAN NOT NULL,
    created_level INTEGER NOT NULL,
    updated_level INTEGER NOT NULL,
    PRIMARY KEY (project_id, funder)
);
CREATE INDEX funders_funder ON funders (funder, project_id);

CREATE TABLE funder_assets (
    project_id INTEGER NOT NULL,
    funder TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    one_off TEXT NOT NULL,
    refunded TEXT NOT NULL,
    updated_level INTEGER NOT NULL,
    PRIMARY KEY (project_id, funder, asset_id)
);

CREATE TABLE daily_stats (
    holder TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    streamed_in TEXT NOT NULL,
    tips_in TEXT NOT NULL,
    tips_out TEXT NOT NULL,
    transfers_in TEXT NOT NULL,
    transfers_out TEXT NOT NULL,
    deposits TEXT NOT NULL,
    withdrawals TEXT NOT NULL,
    payouts_in TEXT NOT NULL,
    payouts_out TEXT NOT NULL,
    funding_in TEXT NOT NULL,
    funding_out TEXT NOT NULL,
    refunds_in TEXT NOT NULL,
    refunds_out TEXT NOT NULL,
    income_units INTEGER NOT NULL,
    inflow TEXT NOT NULL,
    monthly_in_units INTEGER NOT NULL,
    pledges_started INTEGER NOT NULL,
    PRIMARY KEY (holder, asset_id, day)
);

CREATE TABLE events (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    happened_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    account TEXT,
    counterparty TEXT,
    pledge_id INTEGER,
    project_id INTEGER,
    tier_id INTEGER,
    asset_id INTEGER,
    change TEXT,
    data BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);
-- A holder's activity (either side), a pledge's and a project's history.
CREATE INDEX events_account ON events (account, level, idx);
CREATE INDEX events_counterparty ON events (counterparty, level, idx) WHERE counterparty IS NOT NULL;
CREATE INDEX events_pledge ON events (pledge_id, level, idx) WHERE pledge_id IS NOT NULL;
CREATE INDEX events_project ON events (project_id, level, idx) WHERE project_id IS NOT NULL;

CREATE TABLE ledger (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    event_idx INTEGER NOT NULL,
    happened_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    from_holder TEXT,
    to_holder TEXT,
    asset_id INTEGER NOT NULL,
    fine TEXT NOT NULL,
    units INTEGER NOT NULL,
    pledge_id INTEGER,
    project_id INTEGER,
    invoice_no INTEGER,
    memo TEXT,
    PRIMARY KEY (level, idx)
);
-- The ledger by account (either side), by asset and kind, by kind.
CREATE INDEX ledger_from ON ledger (from_holder, level, idx) WHERE from_holder IS NOT NULL;
CREATE INDEX ledger_to ON ledger (to_holder, level, idx) WHERE to_holder IS NOT NULL;
CREATE INDEX ledger_asset_kind ON ledger (asset_id, kind, level, idx);
CREATE INDEX ledger_kind ON ledger (kind, level, idx);

CREATE TABLE receipts (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash TEXT NOT NULL,
    signer TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    applied BOOLEAN NOT NULL,
    reason TEXT,
    PRIMARY KEY (level, idx)
);
CREATE INDEX receipts_hash ON receipts (hash);
CREATE INDEX receipts_signer ON receipts (signer, level, idx);
