//! How the connector proves who it is to the broker: a user name and password, and TLS (`mqtts://`) with
//! the broker's CA and optionally a client certificate.

use std::fmt;
use std::path::PathBuf;

/// A user name and password for the broker. The password is never printed (`Debug` hides it).
#[derive(Clone)]
pub struct Login {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("password", &"…")
            .finish()
    }
}

/// PEM files for a TLS connection.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signed the broker's certificate.
    pub ca: PathBuf,
    /// A client certificate and its private key, for brokers that ask for one.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// Credentials and TLS; the default is anonymous over plain TCP.
#[derive(Debug, Clone, Default)]
pub struct Security {
    pub login: Option<Login>,
    /// Given with an `mqtts://` address.
    pub tls: Option<TlsFiles>,
}
