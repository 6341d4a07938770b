//! `voltex ca ...` and `voltex verify-receipt`: owned by the security work; placeholder.

/// Sub-commands of `voltex ca`.
#[derive(Debug, clap::Subcommand)]
pub enum CaCommand {}

pub fn ca(command: CaCommand) -> anyhow::Result<()> {
    match command {}
}

/// Arguments of `voltex verify-receipt`.
#[derive(Debug, clap::Args)]
pub struct VerifyReceiptArgs {}

pub fn verify_receipt(_args: VerifyReceiptArgs) -> anyhow::Result<()> {
    anyhow::bail!("receipt verification is not built yet")
}
