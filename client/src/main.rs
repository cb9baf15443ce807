//! `pledgeroll`: the command-line wallet for creators, patrons and
//! commissioners.

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = cli::Cli::parse();
    if let Err(e) = cli::run(cli).await {
        // One line for a person at a terminal: the error and its causes.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
