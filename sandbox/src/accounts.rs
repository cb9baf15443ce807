//! The well-known Octez sandbox accounts, `bootstrap1` to `bootstrap5`, with
//! the keys and addresses Octez gives them. The sandbox funds each of them on
//! the rollup in its first level, so a newcomer can act at once; the wallet
//! and the stack reuse this list.

/// A sandbox account whose secret key is public knowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapAccount {
    /// Its Octez name, `bootstrap1`…`bootstrap5`.
    pub name: &'static str,
    /// The unencrypted ed25519 secret key (`edsk…`, 32-byte seed form).
    pub secret_key: &'static str,
    /// The public key (`edpk…`).
    pub public_key: &'static str,
    /// The address (`tz1…`).
    pub address: &'static str,
}

/// Octez's bootstrap accounts, in order.
pub const BOOTSTRAP_ACCOUNTS: [BootstrapAccount; 5] = [
    BootstrapAccount {
        name: "bootstrap1",
        secret_key: "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh",
        public_key: "edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav",
        address: "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx",
    },
    BootstrapAccount {
        name: "bootstrap2",
        secret_key: "edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo",
        public_key: "edpktzNbDAUjUk697W7gYg2CRuBQjyPxbEg8dLccYYwKSKvkPvjtV9",
        address: "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN",
    },
    BootstrapAccount {
        name: "bootstrap3",
        secret_key: "edsk4ArLQgBTLWG5FJmnGnT689VKoqhXwmDPBuGx3z4cvwU9MmrPZZ",
        public_key: "edpkuTXkJDGcFd5nh6VvMz8phXxU3Bi7h6hqgywNFi1vZTfQNnS1RV",
        address: "tz1faswCTDciRzE4oJ9jn2Vm2dvjeyA9fUzU",
    },
    BootstrapAccount {
        name: "bootstrap4",
        secret_key: "edsk2uqQB9AY4FvioK2YMdfmyMrer5R8mGFyuaLLFfSRo8EoyNdht3",
        public_key: "edpkuFrRoDSEbJYgxRtLx2ps82UdaYc1WwfS9sE11yhauZt5DgCHbU",
        address: "tz1b7tUupMgCNw2cCLpKTkSD1NZzB5TkP2sv",
    },
    BootstrapAccount {
        name: "bootstrap5",
        secret_key: "edsk4QLrcijEffxV31gGdN2HU7UpyJjA8drFoNcmnB28n89YjPNRFm",
        public_key: "edpkv8EUUH68jmo3f7Um5PezmfGrRF24gnfLpH3sVNwJnV5bVCxL2n",
        address: "tz1ddb9NMYHZi5UzPdzTZMYQQZoMub195zgv",
    },
];

/// The bootstrap account named `name` (`bootstrap1`…), if any.
pub fn bootstrap(name: &str) -> Option<&'static BootstrapAccount> {
    BOOTSTRAP_ACCOUNTS.iter().find(|a| a.name == name)
}
