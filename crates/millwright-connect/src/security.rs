//! How the connector proves who it is to the broker: a user name and password, and TLS (`mqtts://`) with
//! the broker's CA and optionally a client certificate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::ConnectError;

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

/// The rustls configuration for `mqtts://`: the broker must show a certificate signed by the given CA.
pub(crate) fn transport(tls: &TlsFiles) -> Result<rumqttc::Transport, ConnectError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    // deltalake compiles aws-lc-rs into the same rustls; ring is the one the project installs.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let pem_error = |path: &Path, what: &str, e: &dyn std::fmt::Display| ConnectError::TlsFile {
        path: path.to_path_buf(),
        reason: format!("{what}: {e}"),
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&tls.ca)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| pem_error(&tls.ca, "cannot read the CA certificates", &e))?;
    if certs.is_empty() {
        return Err(pem_error(
            &tls.ca,
            "no CA certificate",
            &"the file holds no PEM CERTIFICATE",
        ));
    }
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| pem_error(&tls.ca, "not a usable CA certificate", &e))?;
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let config = match &tls.client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| pem_error(cert, "cannot read the client certificate", &e))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| pem_error(key, "cannot read the client key", &e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| pem_error(cert, "the client certificate and key do not fit", &e))?
        }
    };
    Ok(rumqttc::Transport::Tls(rumqttc::TlsConfiguration::Rustls(
        Arc::new(config),
    )))
}

/// A TLS failure that trying again cannot mend (an untrusted or mismatched certificate), in words.
pub(crate) fn certificate_problem(error: &rumqttc::ConnectionError) -> Option<String> {
    let rumqttc::ConnectionError::Tls(tls) = error else {
        return None;
    };
    let rustls_error = match tls {
        rumqttc::TlsError::TLS(e) => Some(e),
        rumqttc::TlsError::Io(io) => io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(problem)) => Some(format!(
            "the broker's certificate is not accepted: {}",
            certificate_words(problem)
        )),
        Some(rustls::Error::AlertReceived(alert)) => Some(format!(
            "the broker refused the TLS connection ({alert:?}): does it want a client certificate (--cert, --key) or another one?"
        )),
        _ => None,
    }
}

fn certificate_words(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match problem {
        C::UnknownIssuer => {
            "it is not signed by the given CA (unknown issuer): is --ca the CA that signed it?"
                .into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            format!("it is not issued for this host name or address ({problem:?})")
        }
        C::Expired | C::ExpiredContext { .. } => format!("it has expired ({problem:?})"),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            format!("it is not valid yet ({problem:?})")
        }
        other => format!("{other:?}"),
    }
}
