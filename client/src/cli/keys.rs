//! `pledgeroll keys`: generating, importing, listing, showing, exporting,
//! backing up, recovering and removing the keys in the keystore.

use anyhow::{anyhow, Result};
use clap::{Subcommand, ValueEnum};
use pledgeroll_client::backup;
use pledgeroll_client::keystore::{Entry, Sealed};
use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Address, PublicKey};
use serde_json::json;

use super::context::{passphrase, Ctx};

/// The curves a key can be on, as `--curve` names them.
#[derive(Copy, Clone, ValueEnum)]
pub enum CurveArg {
    Ed25519,
    Secp256k1,
    P256,
}

/// `pledgeroll keys …`.
#[derive(Subcommand)]
pub enum KeysCommand {
    /// Generate a new key.
    Gen {
        /// Its name.
        name: String,
        /// The curve (tz1, tz2 or tz3).
        #[arg(long, value_enum, default_value = "ed25519")]
        curve: CurveArg,
        /// Store it in clear (sandbox throwaway keys only).
        #[arg(long)]
        unencrypted: bool,
    },
    /// Import an Octez secret key (`edsk…`, `unencrypted:edsk…`, `spsk…`,
    /// `p2sk…`, or `encrypted:edesk…`/`spesk…`/`p2esk…` with its passphrase).
    Import {
        /// Its name.
        name: String,
        /// The secret key, or `-` to read it from standard input.
        secret: String,
        /// Store it in clear (sandbox throwaway keys only).
        #[arg(long)]
        unencrypted: bool,
    },
    /// Watch an account without its secret key, by public key (`edpk…`,
    /// `sppk…`, `p2pk…`) or address (`tz1…`): its operations are printed
    /// with `--dry-run`, signed elsewhere and sent with `submit --unsigned`.
    AddWatch {
        /// Its name.
        name: String,
        /// Its public key or address.
        account: String,
    },
    /// List stored keys.
    List,
    /// Show a key's address and public key.
    Show {
        /// Its name.
        name: String,
    },
    /// Print a key's secret key.
    Export {
        /// Its name.
        name: String,
    },
    /// Split a key into shares for friends to keep.
    Backup {
        /// Its name.
        name: String,
        /// How many shares.
        #[arg(long, default_value_t = 5)]
        shares: usize,
        /// How many shares rebuild the key.
        #[arg(long, default_value_t = 3)]
        threshold: usize,
    },
    /// Rebuild a key from shares (one per line on standard input, or --share).
    Recover {
        /// The name to store it under.
        name: String,
        /// A share; repeat for each.
        #[arg(long = "share")]
        shares: Vec<String>,
        /// Store it in clear (sandbox throwaway keys only).
        #[arg(long)]
        unencrypted: bool,
    },
    /// Delete a stored key.
    Remove {
        /// Its name.
        name: String,
    },
}

impl From<CurveArg> for Curve {
    fn from(c: CurveArg) -> Self {
        match c {
            CurveArg::Ed25519 => Curve::Ed25519,
            CurveArg::Secp256k1 => Curve::Secp256k1,
            CurveArg::P256 => Curve::P256,
        }
    }
}

/// Runs a `keys` subcommand.
pub fn run(ctx: &Ctx, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Gen {
            name,
            curve,
            unencrypted,
        } => store(ctx, &name, &generate(curve.into()), unencrypted),
        KeysCommand::Import {
            name,
            secret,
            unencrypted,
        } => store(ctx, &name, &import(secret)?, unencrypted),
        KeysCommand::AddWatch { name, account } => add_watch(ctx, &name, &account),
        KeysCommand::List => list(ctx),
        KeysCommand::Show { name } => show(ctx, &name),
        KeysCommand::Export { name } => {
            let key = ctx.key(&name)?;
            let secret = zeroize::Zeroizing::new(key.to_string());
            ctx.print(&*secret, json!({ "name": name, "secret_key": &*secret }));
            Ok(())
        }
        KeysCommand::Backup {
            name,
            shares,
            threshold,
        } => back_up(ctx, &name, shares, threshold),
        KeysCommand::Recover {
            name,
            shares,
            unencrypted,
        } => store(
            ctx,
            &name,
            &backup::recover(&read_shares(shares)?)?,
            unencrypted,
        ),
        KeysCommand::Remove { name } => {
            ctx.keystore().remove(&name)?;
            ctx.print(format!("removed `{name}`"), json!({ "removed": name }));
            Ok(())
        }
    }
}

/// Stores `key` as `name`, under a new passphrase unless `unencrypted`.
fn store(ctx: &Ctx, name: &str, key: &SecretKey, unencrypted: bool) -> Result<()> {
    let pass = if unencrypted {
        None
    } else {
        Some(passphrase(&format!("New passphrase for `{name}`: "), true)?)
    };
    let entry = ctx.keystore().add(name, key, pass.as_deref())?;
    if unencrypted {
        eprintln!("warning: `{name}` is stored unencrypted; use such keys only on a sandbox");
    }
    print_entry(ctx, &entry);
    Ok(())
}

/// Prints a stored entry's account: its address and public key.
fn print_entry(ctx: &Ctx, entry: &Entry) {
    ctx.print(
        format!(
            "{}  {}",
            entry.address,
            entry
                .public_key
                .as_deref()
                .unwrap_or("(public key not known)")
        ),
        json!({ "name": entry.alias, "address": entry.address, "public_key": entry.public_key }),
    );
}

/// `keys add-watch`: an account without its secret, by public key or
/// address, whose operations are signed elsewhere.
fn add_watch(ctx: &Ctx, name: &str, account: &str) -> Result<()> {
    let entry = match account.parse::<PublicKey>() {
        Ok(pk) => ctx.keystore().add_watch(name, Some(&pk), &pk.address())?,
        Err(_) => {
            let address: Address = account.parse().map_err(|_| {
                anyhow!("`{account}` is neither a public key (edpk…, sppk…, p2pk…) nor an address (tz1…, tz2…, tz3…)")
            })?;
            ctx.keystore().add_watch(name, None, &address)?
        }
    };
    print_entry(ctx, &entry);
    Ok(())
}

/// A fresh key on `curve`, from the operating system's randomness.
fn generate(curve: Curve) -> SecretKey {
    // A few byte strings are no key on a curve (zero, or past the curve's
    // order); drawing again is the standard way out.
    loop {
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, secret.as_mut());
        if let Ok(k) = SecretKey::from_bytes(curve, *secret) {
            return k;
        }
    }
}

/// An Octez secret key given as an argument, or read from standard input
/// for `-` (so it stays out of the shell's history); an `encrypted:` one is
/// opened with its passphrase.
fn import(secret: String) -> Result<SecretKey> {
    let secret = zeroize::Zeroizing::new(if secret == "-" {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line
    } else {
        secret
    });
    let secret = secret.trim();
    if secret.starts_with("encrypted:") {
        let pass = zeroize::Zeroizing::new(passphrase("Passphrase of the encrypted key: ", false)?);
        return SecretKey::from_encrypted(secret, &pass).map_err(|e| anyhow!("{e}"));
    }
    secret.parse().map_err(|e| anyhow!("{e}"))
}

/// How a stored key is kept, in a word.
fn kept(e: &Entry) -> &'static str {
    match e.secret {
        Sealed::Encrypted { .. } => "encrypted",
        Sealed::Unencrypted { .. } => "UNENCRYPTED",
        Sealed::WatchOnly => "watch-only",
    }
}

/// `keys list`: every stored key and how it is kept; a damaged file is
/// listed as such, and the others still are.
fn list(ctx: &Ctx) -> Result<()> {
    let entries = ctx.keystore().list()?;
    let mut lines = Vec::new();
    let mut values = Vec::new();
    for e in &entries {
        match e {
            Ok(e) => {
                lines.push(format!("{:<16} {}  {}", e.alias, e.address, kept(e)));
                values.push(json!({ "name": e.alias, "address": e.address, "kept": kept(e) }));
            }
            Err(damaged) => {
                lines.push(format!("damaged: {damaged}"));
                values.push(json!({ "damaged": damaged.to_string() }));
            }
        }
    }
    ctx.print(lines.join("\n"), json!(values));
    Ok(())
}

/// `keys show`: a key's address and public key.
fn show(ctx: &Ctx, name: &str) -> Result<()> {
    let e = ctx.keystore().entry(name)?;
    ctx.print(
        format!(
            "address:    {}\npublic key: {}\nkept:       {}",
            e.address,
            e.public_key.as_deref().unwrap_or("(not known)"),
            kept(&e)
        ),
        json!({ "name": e.alias, "address": e.address, "public_key": e.public_key, "kept": kept(&e) }),
    );
    Ok(())
}

/// `keys backup`: splits a key into `shares`, any `threshold` of which
/// rebuild it.
fn back_up(ctx: &Ctx, name: &str, shares: usize, threshold: usize) -> Result<()> {
    let key = ctx.key(name)?;
    let parts = backup::split(&key, shares, threshold)?;
    ctx.print(
        format!(
            "Give one share to each person you trust. Any {threshold} of these {shares} rebuild `{name}`:\n{}",
            parts.join("\n")
        ),
        json!({ "threshold": threshold, "shares": parts }),
    );
    Ok(())
}

/// The shares given with `--share`, or else one per non-empty line of
/// standard input.
fn read_shares(mut shares: Vec<String>) -> Result<Vec<String>> {
    if shares.is_empty() {
        for line in std::io::stdin().lines() {
            let line = line?;
            if !line.trim().is_empty() {
                shares.push(line.trim().to_owned());
            }
        }
    }
    Ok(shares)
}
