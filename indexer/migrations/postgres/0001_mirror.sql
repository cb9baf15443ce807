-- The pledgeroll mirror (Postgres). migrations/sqlite holds the same schema
-- for SQLite; src/rows.rs documents every column and a test checks both
-- against it. Exact amounts are NUMERIC(39,0); `_units` columns hold base
-- units for sorting.

CREATE TABLE indexer_cursor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    level BIGINT NOT NULL,
    block_hash TEXT NOT NULL
);

CREATE TABLE indexer_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE indexer_undo (
    level BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    image TEXT,
    PRIMARY KEY (level, seq)
);

CREATE TABLE levels (
    level BIGINT PRIMARY KEY,
    block_hash TEXT NOT NULL,
    predecessor TEXT NOT NULL,
    level_time BIGINT,
    state_hash TEXT,
    events BIGINT NOT NULL,
    receipts BIGINT NOT NULL,
    notices BIGINT NOT NULL,
    fault TEXT
);

CREATE TABLE accounts (
    address TEXT PRIMARY KEY,
    public_key TEXT,
    revealed_level BIGINT,
    first_level BIGINT NOT NULL
);

CREATE TABLE assets (
    asset_id BIGINT PRIMARY KEY,
    ticketer TEXT NOT NULL,
    token_id NUMERIC(39, 0) NOT NULL,
    metadata TEXT,
    deposited NUMERIC(39, 0) NOT NULL,
    withdrawn NUMERIC(39, 0) NOT NULL,
    supply_units BIGINT NOT NULL,
    registered_level BIGINT NOT NULL
);

CREATE TABLE balances (
    holder TEXT NOT NULL,
    asset_id BIGINT NOT NULL,
    project_id BIGINT,
    settled NUMERIC(39, 0) NOT NULL,
    at BIGINT NOT NULL,
    inflow NUMERIC(39, 0) NOT NULL,
    outflow NUMERIC(39, 0) NOT NULL,
    depletion_scheduled BIGINT,
    settled_units BIGINT NOT NULL,
    monthly_in_units BIGINT NOT NULL,
    monthly_out_units BIGINT NOT NULL,
    updated_level BIGINT NOT NULL,
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
    tiers BIGINT NOT NULL,
    patrons BIGINT NOT NULL,
    active_patrons BIGINT NOT NULL,
    created_level BIGINT NOT NULL,
    updated_level BIGINT NOT NULL
);
CREATE INDEX creators_patrons ON creators (patrons DESC, address);
CREATE INDEX creators_active_patrons ON creators (active_patrons DESC, address);
CREATE INDEX creators_name ON creators (name_lower, address);

CREATE TABLE tiers (
    tier_id BIGINT PRIMARY KEY,
    creator TEXT NOT NULL,
    title TEXT NOT NULL,
    perks TEXT NOT NULL,
    asset_id BIGINT NOT NULL,
    amount_per_period NUMERIC(39, 0) NOT NULL,
    period BIGINT NOT NULL,
    monthly_units BIGINT NOT NULL,
    patron_limit BIGINT,
    patrons BIGINT NOT NULL,
    active_patrons BIGINT NOT NULL,
    retired BOOLEAN NOT NULL,
    created_level BIGINT NOT NULL,
    updated_level BIGINT NOT NULL
);
CREATE INDEX tiers_creator ON tiers (creator, tier_id);

CREATE TABLE pledges (
    pledge_id BIGINT PRIMARY KEY,
    patron TEXT NOT NULL,
    payee TEXT NOT NULL,
    project_id BIGINT,
    tier_id BIGINT,
    asset_id BIGINT NOT NULL,
    amount_per_period NUMERIC(39, 0) NOT NULL,
    period BIGINT NOT NULL,
    rate NUMERIC(39, 0) NOT NULL,
    monthly_units BIGINT NOT NULL,
    end_time BIGINT,
    cap NUMERIC(39, 0),
    status TEXT NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL,
    streamed NUMERIC(39, 0) NOT NULL,
    since BIGINT NOT NULL,
    end_scheduled BIGINT,
    created_level BIGINT NOT NULL,
    updated_level BIGINT NOT NULL
);
-- A patron's pledges; a payee's (creator's or project's) recent pledges;
-- a tier's patrons by status.
CREATE INDEX pledges_patron ON pledges (patron, pledge_id);
CREATE INDEX pledges_payee ON pledges (payee, pledge_id);
CREATE INDEX pledges_tier ON pledges (tier_id, status, pledge_id);

CREATE TABLE projects (
    project_id BIGINT PRIMARY KEY,
    creator TEXT NOT NULL,
    title TEXT NOT NULL,
    title_lower TEXT NOT NULL,
    description TEXT NOT NULL,
    link TEXT,
    commissioners TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    mode TEXT NOT NULL,
    patron TEXT,
    time_lock BIGINT NOT NULL,
    refund_deadline BIGINT NOT NULL,
    status TEXT NOT NULL,
    paid_any BOOLEAN NOT NULL,
    tickets BIGINT NOT NULL,
    invoices BIGINT NOT NULL,
    assets TEXT NOT NULL,
    refund_approvals TEXT NOT NULL,
    created_level BIGINT NOT NULL,
    updated_level BIGINT NOT NULL
);
CREATE INDEX projects_title ON projects (title_lower, project_id);

CREATE TABLE escrows (
    project_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    reserved NUMERIC(39, 0) NOT NULL,
    paid_out NUMERIC(39, 0) NOT NULL,
    funded NUMERIC(39, 0) NOT NULL,
    refund_pool NUMERIC(39, 0),
    refund_contributions NUMERIC(39, 0),
    refund_claimed_contributions NUMERIC(39, 0),
    refund_claimed NUMERIC(39, 0),
    updated_level BIGINT NOT NULL,
    PRIMARY KEY (project_id, asset_id)
);

CREATE TABLE tickets (
    project_id BIGINT NOT NULL,
    ticket_no BIGINT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    budget_asset_id BIGINT,
    budget_amount NUMERIC(39, 0),
    opened_by TEXT NOT NULL,
    closed BOOLEAN NOT NULL,
    created_level BIGINT NOT NULL,
    updated_level BIGINT NOT NULL,
    PRIMARY KEY (project_id, ticket_no)
);

CREATE TABLE invoices (
    project_id BIGINT NOT NULL,
    invoice_no BIGINT NOT NULL,
    ticket_no BIGINT NOT NULL,
    raised_by TEXT NOT NULL,
    beneficiary TEXT NOT NULL,
    asset_id BIGINT NOT NULL,
    amount NUMERIC(39, 0) NOT NULL,
    approvals TEXT NOT NULL,
    vetoes TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    unlocks_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    settled_at BIGINT,
    created_level BIGINT NOT NULL,
    updated_level BIGINT NOT NULL,
    PRIMARY KEY (project_id, invoice_no)
);
CREATE INDEX invoices_beneficiary ON invoices (beneficiary, project_id, invoice_no);

CREATE TABLE funders (
    project_id BIGINT NOT NULL,
    funder TEXT NOT NULL,
    reclaimed BOOLEAN NOT NULL,
    created_level BIGINT NOT NULL,
    updated_level BIGINT NOT NULL,
    PRIMARY KEY (project_id, funder)
);
CREATE INDEX funders_funder ON funders (funder, project_id);

CREATE TABLE funder_assets (
    project_id BIGINT NOT NULL,
    funder TEXT NOT NULL,
    asset_id BIGINT NOT NULL,
    one_off NUMERIC(39, 0) NOT NULL,
    refunded NUMERIC(39, 0) NOT NULL,
    updated_level BIGINT NOT NULL,
    PRIMARY KEY (project_id, funder, asset_id)
);

CREATE TABLE daily_stats (
    holder TEXT NOT NULL,
    asset_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    streamed_in NUMERIC(39, 0) NOT NULL,
    tips_in NUMERIC(39, 0) NOT NULL,
    tips_out NUMERIC(39, 0) NOT NULL,
    transfers_in NUMERIC(39, 0) NOT NULL,
    transfers_out NUMERIC(39, 0) NOT NULL,
    deposits NUMERIC(39, 0) NOT NULL,
    withdrawals NUMERIC(39, 0) NOT NULL,
    payouts_in NUMERIC(39, 0) NOT NULL,
    payouts_out NUMERIC(39, 0) NOT NULL,
    funding_in NUMERIC(39, 0) NOT NULL,
    funding_out NUMERIC(39, 0) NOT NULL,
    refunds_in NUMERIC(39, 0) NOT NULL,
    refunds_out NUMERIC(39, 0) NOT NULL,
    income_units BIGINT NOT NULL,
    inflow NUMERIC(39, 0) NOT NULL,
    monthly_in_units BIGINT NOT NULL,
    pledges_started BIGINT NOT NULL,
    PRIMARY KEY (holder, asset_id, day)
);

CREATE TABLE events (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    happened_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    account TEXT,
    counterparty TEXT,
    pledge_id BIGINT,
    project_id BIGINT,
    tier_id BIGINT,
    asset_id BIGINT,
    change TEXT,
    data BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
-- A holder's activity (either side), a pledge's and a project's history.
CREATE INDEX events_account ON events (account, level, idx);
CREATE INDEX events_counterparty ON events (counterparty, level, idx) WHERE counterparty IS NOT NULL;
CREATE INDEX events_pledge ON events (pledge_id, level, idx) WHERE pledge_id IS NOT NULL;
CREATE INDEX events_project ON events (project_id, level, idx) WHERE project_id IS NOT NULL;

CREATE TABLE ledger (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    event_idx BIGINT NOT NULL,
    happened_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_holder TEXT,
    to_holder TEXT,
    asset_id BIGINT NOT NULL,
    fine NUMERIC(39, 0) NOT NULL,
    units BIGINT NOT NULL,
    pledge_id BIGINT,
    project_id BIGINT,
    invoice_no BIGINT,
    memo TEXT,
    PRIMARY KEY (level, idx)
);
-- The ledger by account (either side), by asset and kind, by kind.
CREATE INDEX ledger_from ON ledger (from_holder, level, idx) WHERE from_holder IS NOT NULL;
CREATE INDEX ledger_to ON ledger (to_holder, level, idx) WHERE to_holder IS NOT NULL;
CREATE INDEX ledger_asset_kind ON ledger (asset_id, kind, level, idx);
CREATE INDEX ledger_kind ON ledger (kind, level, idx);

CREATE TABLE receipts (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    signer TEXT NOT NULL,
    nonce BIGINT NOT NULL,
    applied BOOLEAN NOT NULL,
    reason TEXT,
    PRIMARY KEY (level, idx)
);
CREATE INDEX receipts_hash ON receipts (hash);
CREATE INDEX receipts_signer ON receipts (signer, level, idx);
