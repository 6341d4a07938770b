//! `voltex forecast ...`: owned by the forecast work; replace this placeholder with the real command.

/// Sub-commands of `voltex forecast`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}

/// Arguments of `voltex bench forecast`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

pub fn bench(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the forecast benchmark is not built yet")
}
