//! What every command works with: the wallet's home and node, and reading
//! the key names, addresses, amounts and texts people type.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use pledgeroll_client::assets::{parse_units, split_symbol};
use pledgeroll_client::keystore::Keystore;
use pledgeroll_client::{AssetBook, AssetInfo, PublicKeyOrAddress, Wallet};
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Address, AssetId, Holder, ProjectId};

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

    /// A key name, a tz address or `project:N`.
    pub fn holder(&self, who: &str) -> Result<Holder> {
        match who.strip_prefix("project:") {
            Some(n) => Ok(Holder::Project(ProjectId(
                n.parse().context("`project:N` needs a project number")?,
            ))),
            None => Ok(Holder::Account(self.address(who)?)),
        }
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

/// `s` as a bounded text, or an error naming `what` is too long.
pub fn text<const N: usize>(what: &str, s: &str) -> Result<Text<N>> {
    Text::new(s).map_err(|_| anyhow!("the {what} is longer than {N} bytes"))
}

/// Reads `5 tez` into an asset and base units.
pub async fn amount(w: &Wallet, s: &str) -> Result<(AssetId, u64, AssetInfo)> {
    let (number, symbol) = split_symbol(s);
    let symbol = symbol.unwrap_or("tez");
    let (id, info) = w.asset_by_symbol(symbol).await?.ok_or_else(|| {
        anyhow!("the rollup has no asset named `{symbol}` yet; deposit some first")
    })?;
    Ok((id, parse_units(number, &info)?, info))
}

/// Reads an amount in a known asset.
pub fn units_in(s: &str, info: &AssetInfo) -> Result<u64> {
    let (number, symbol) = split_symbol(s);
    if let Some(sym) = symbol {
        if !sym.eq_ignore_ascii_case(&info.symbol) {
            bail!("this amount is in {}, not {sym}", info.symbol);
        }
    }
    Ok(parse_units(number, info)?)
}

/// Reads a duration such as `90d` or `72h` into seconds; `hint` says what
/// the option takes when it does not read.
pub fn seconds(text: &str, hint: &'static str) -> Result<u64> {
    Ok(humantime::parse_duration(text).context(hint)?.as_secs())
}
