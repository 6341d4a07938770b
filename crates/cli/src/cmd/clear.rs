//! `voltex clear ...`: owned by the clearing work; replace this placeholder with the real command.

/// Arguments of `voltex clear`.
#[derive(Debug, clap::Args)]
pub struct ClearArgs {}

pub fn run(_args: ClearArgs) -> anyhow::Result<()> {
    anyhow::bail!("clearing is not built yet")
}

/// Arguments of `voltex bench clearing`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

pub fn bench(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the clearing benchmark is not built yet")
}
