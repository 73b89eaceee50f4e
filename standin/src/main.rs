//! `easypanel-standin`: serves a stand-in Easypanel panel on loopback until killed
//! (`serve`), or runs the real autoscaler against one in this process (`demo`, `bench`).

mod commands;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use easypanel_standin::{demo_fleet, fleet, Generation, PanelOptions, StandIn};

#[derive(Debug, Parser)]
#[command(
    name = "easypanel-standin",
    version,
    about = "A stand-in Easypanel panel on 127.0.0.1"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the panel API on 127.0.0.1 until the process is killed.
    Serve(ServeArgs),
    /// Run bin/autoscaler three times against a demo panel and show what each run changed.
    Demo(commands::demo::DemoArgs),
    /// Measure runs of bin/autoscaler against panels of several sizes, and its startup.
    Bench(commands::bench::BenchArgs),
    /// Run a program and print its exit status, wall time and peak memory (used by bench).
    #[command(hide = true)]
    Measure(commands::child::MeasureArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// API transport: trpc (panels up to 2.30) or rpc (2.31 and later).
    #[arg(long, value_enum, default_value_t = GenerationArg::Trpc)]
    generation: GenerationArg,

    /// API token that requests must send as `Authorization: Bearer <token>`.
    #[arg(long, default_value = "test-token")]
    token: String,

    /// Delay added to every API response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,

    /// Number of generated app services (plus four services of other types).
    #[arg(long, default_value_t = 0)]
    services: usize,

    /// Share of the generated app services that run hot (above 70 percent CPU), 0 to 1.
    #[arg(long, default_value_t = 0.05)]
    hot_share: f64,

    /// Load the demo services (shop_api hot, shop_worker cold, blog_web moderate, blog_db,
    /// tools_admin with a published port, shop_cron disabled).
    #[arg(long)]
    demo: bool,

    /// Time services.app.deployService blocks, in milliseconds.
    #[arg(long, default_value_t = 0)]
    deploy_ms: u64,

    /// Make services.app.updateDeploy only store the replica count; a deployService then
    /// applies it.
    #[arg(long)]
    update_saves_only: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GenerationArg {
    Trpc,
    Rpc,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("easypanel-standin: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Measure(args) => commands::child::measure(args),
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    if !(0.0..=1.0).contains(&args.hot_share) {
        return Err(format!(
            "invalid --hot-share {}: expected a share from 0 to 1",
            args.hot_share
        ));
    }

    let mut options = match args.generation {
        GenerationArg::Trpc => PanelOptions::trpc(),
        GenerationArg::Rpc => PanelOptions::rpc(),
    };
    options.token = args.token;
    options.latency = Duration::from_millis(args.latency_ms);
    options.deploy_duration = Duration::from_millis(args.deploy_ms);
    options.update_changes_desired = !args.update_saves_only;

    let mut services = Vec::new();
    if args.demo {
        services.extend(demo_fleet());
    }
    if args.services > 0 {
        services.extend(fleet(args.services, args.hot_share));
    }

    let generation = options.generation;
    let panel = StandIn::start_on(args.port, options, services)
        .map_err(|error| format!("failed to start on 127.0.0.1:{}: {error}", args.port))?;

    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", panel.url())
        .and_then(|()| stdout.flush())
        .map_err(|error| format!("failed to write to stdout: {error}"))?;
    eprintln!(
        "easypanel-standin: serving a {} panel; request counts at {}/_standin/stats",
        match generation {
            Generation::Trpc => "tRPC",
            Generation::Rpc => "RPC",
        },
        panel.url()
    );

    // The server runs on its own thread; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
}
