//! `voltex pricing ...`: owned by the pricing work; replace this placeholder with the real command.

/// Sub-commands of `voltex pricing`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}

/// Arguments of `voltex bench pricing`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

pub fn bench(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the pricing benchmark is not built yet")
}
