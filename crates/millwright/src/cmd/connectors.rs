//! `millwright connectors`: every connector that has run on this home, its state, counters and last error.

use anyhow::Result;
use clap::Args;
use millwright_app::connect::status;

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct ConnectorsArgs {
    /// Only the connectors that are running (connecting, connected, reconnecting or failing to store).
    #[arg(long)]
    pub running: bool,
}

pub fn connectors(global: &Global, args: ConnectorsArgs) -> Result<()> {
    let mut list = status::list(&global.home())?;
    if args.running {
        list.retain(|c| c.is_live());
    }
    if global.json {
        return print_json(&list);
    }
    print!("{}", millwright_app::text::connectors(&list));
    Ok(())
}
