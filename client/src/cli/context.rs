//! What every command works with: the wallet's home and node, and reading
//! the key names, addresses, amounts and texts people type.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use pledgeroll_client::keystore::Keystore;
use pledgeroll_client::{AssetBook, PublicKeyOrAddress, Wallet};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::Address;

/// The global options every command runs with.
pub struct Ctx {
    /// Where keys and settings live.
    pub home: PathBuf,
    /// The rollup node's RPC address.
    pub node: String,
    /// Print results as JSON rather than text.
    pub json: bool,
}

impl Ctx {
    /// The keys under the home.
    pub fn keystore(&self) -> Keystore {
        Keystore::new(&self.home)
    }

    /// The asset book under the home.
    fn book(&self) -> Result<AssetBook> {
        AssetBook::load(&self.home, Vec::new()).map_err(|e| anyhow!(e))
    }

    /// A wallet connected to the node.
    pub async fn wallet(&self) -> Result<Wallet> {
        Ok(Wallet::connect(&self.node, self.book()?).await?)
    }

    /// The secret key stored as `name`, asking for its passphrase if it
    /// has one.
    pub fn key(&self, name: &str) -> Result<SecretKey> {
        Ok(self.keystore().open(name, || {
            passphrase(&format!("Passphrase for `{name}`: "), false).ok()
        })?)
    }

    /// Who signs as `name`, known without its secret: its public key, or a
    /// watch-only account's address when that is all the keystore has.
    pub fn signer(&self, name: &str) -> Result<PublicKeyOrAddress> {
        let entry = self.keystore().entry(name)?;
        Ok(match entry.public_key()? {
            Some(pk) => PublicKeyOrAddress::Key(pk),
            None => PublicKeyOrAddress::Address(entry.address()?),
        })
    }

    /// A key name or a tz address.
    pub fn address(&self, who: &str) -> Result<Address> {
        if let Ok(a) = who.parse::<Address>() {
            return Ok(a);
        }
        Ok(self.keystore().entry(who)?.address()?)
    }
}

/// A passphrase from `PLEDGEROLL_PASSPHRASE` or, failing that, the
/// terminal; `confirm` asks twice, for a new one.
pub fn passphrase(prompt: &str, confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var("PLEDGEROLL_PASSPHRASE") {
        return Ok(p);
    }
    let first = rpassword::prompt_password(prompt)
        .context("cannot read a passphrase; set PLEDGEROLL_PASSPHRASE or use a terminal")?;
    if confirm {
        let again = rpassword::prompt_password("Again: ")?;
        if again != first {
            bail!("the passphrases differ");
        }
    }
    if first.is_empty() {
        bail!("an empty passphrase protects nothing; use --unencrypted for throwaway keys");
    }
    Ok(first)
}
