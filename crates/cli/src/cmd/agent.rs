//! `voltex agent ...`: owned by the agent work; replace this placeholder with the real command.

/// Sub-commands of `voltex agent`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}

/// Arguments of `voltex bench agent`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

pub fn bench(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the agent benchmark is not built yet")
}
