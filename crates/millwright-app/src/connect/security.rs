//! The broker's credentials and TLS files as the user gives them: the password from an environment
//! variable or a file, never from the command line (where `ps` shows it to everyone).

use std::path::PathBuf;

use millwright_connect::{Login, Security, TlsFiles};

use crate::error::{AppError, Result};

/// The environment variable that holds the broker password.
pub const PASSWORD_ENV: &str = "MILLWRIGHT_MQTT_PASSWORD";

/// What the user said about credentials and TLS.
#[derive(Debug, Clone, Default)]
pub struct SecurityArgs {
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    /// The value of [`PASSWORD_ENV`], when set.
    pub password_env: Option<String>,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Checks the combination and reads the password file; `tls` is whether the address is `mqtts://`.
pub fn mqtt_security(args: SecurityArgs, tls: bool) -> Result<Security> {
    let login = login(&args)?;
    let tls = tls_files(args, tls)?;
    Ok(Security { login, tls })
}

fn login(args: &SecurityArgs) -> Result<Option<Login>> {
    let password = match (&args.password_file, &args.password_env) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|source| AppError::Io {
                what: "cannot read the password file",
                path: path.clone(),
                source,
            })?;
            // Editors and `echo` end the file with a newline that is not part of the password.
            Some(text.trim_end_matches(['\n', '\r']).to_string())
        }
        (None, Some(p)) => Some(p.clone()),
        (None, None) => None,
    };
    match (&args.username, password) {
        (Some(username), Some(password)) => Ok(Some(Login {
            username: username.clone(),
            password,
        })),
        (Some(username), None) => Err(AppError::invalid(format!(
            "--username {username}: give the password in {PASSWORD_ENV} or with --password-file PATH"
        ))),
        (None, Some(_)) if args.password_file.is_some() => Err(AppError::invalid(
            "--password-file needs --username",
        )),
        // A password in the environment without a user name is left unused: the variable may be set
        // for another connector.
        (None, _) => Ok(None),
    }
}

fn tls_files(args: SecurityArgs, tls: bool) -> Result<Option<TlsFiles>> {
    if !tls {
        if args.ca.is_some() || args.cert.is_some() || args.key.is_some() {
            return Err(AppError::invalid(
                "--ca, --cert and --key are for TLS: write the address as mqtts://HOST:PORT",
            ));
        }
        return Ok(None);
    }
    let Some(ca) = args.ca else {
        return Err(AppError::invalid(
            "mqtts:// needs --ca PATH: the PEM file of the CA that signed the broker's certificate",
        ));
    };
    let client = match (args.cert, args.key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => {
            return Err(AppError::invalid(
                "a client certificate needs both --cert and --key",
            ))
        }
    };
    Ok(Some(TlsFiles { ca, client }))
}
