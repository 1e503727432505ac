//! The command-line flag that fixes an error, when one does. Libraries say what is wrong in the words of
//! the domain; only the CLI knows its own flags.

use millwright_app::AppError;
use millwright_data::DataError;

/// A hint for the first error in the chain that a flag fixes.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        let app = cause.downcast_ref::<AppError>()?;
        of_app(app.root())
    })
}

fn of_app(err: &AppError) -> Option<String> {
    match err {
        AppError::Data(DataError::DatasetExists { name }) => Some(format!(
            "--mode append adds a version to {name:?}, --mode overwrite replaces it (old versions stay readable)"
        )),
        _ => None,
    }
}
