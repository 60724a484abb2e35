use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    deskgraph::telemetry::init();
    deskgraph::cli::run(deskgraph::cli::Cli::parse()).await
}
