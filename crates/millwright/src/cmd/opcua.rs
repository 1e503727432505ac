//! `millwright opcua browse URL`: the nodes of an OPC UA server, to write a connector's nodes file.

use anyhow::Result;
use clap::{Args, Subcommand};
use millwright_app::connect::opcua;

use crate::cmd::connect::OpcuaSecurityArgs;
use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct OpcuaArgs {
    #[command(subcommand)]
    pub command: OpcuaCommand,
}

#[derive(Debug, Subcommand)]
pub enum OpcuaCommand {
    /// List the nodes below the Objects folder (or --from), with variables' current values.
    Browse(BrowseArgs),
}

#[derive(Debug, Args)]
pub struct BrowseArgs {
    /// The server: opc.tcp://HOST:PORT.
    pub url: String,
    /// Levels to walk down.
    #[arg(long, default_value_t = 3)]
    pub depth: usize,
    /// Start at this node instead of the Objects folder (e.g. ns=2;s=Press7).
    #[arg(long)]
    pub from: Option<String>,
    #[command(flatten)]
    pub server: OpcuaSecurityArgs,
}

pub async fn opcua(global: &Global, args: OpcuaArgs) -> Result<()> {
    match args.command {
        OpcuaCommand::Browse(args) => {
            let server = args.server.server(&args.url);
            let nodes =
                opcua::browse(&global.home(), &server, args.from.as_deref(), args.depth).await?;
            if global.json {
                return print_json(&nodes);
            }
            print!("{}", millwright_app::text::browsed_nodes(&nodes));
            Ok(())
        }
    }
}
