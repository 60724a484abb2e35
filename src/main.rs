use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    deskgraph::telemetry::init();
    deskgraph::cli::run(deskgraph::cli::Cli::parse()).await
}
