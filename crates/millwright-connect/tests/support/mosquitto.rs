//! A mosquitto for the MQTT tests, on a free port of its own with its persistence in a temporary folder;
//! killed on drop. Shared by the connector's tests and the CLI's (`#[path]`-included in each).

// Each test crate uses a part of it.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";
pub const MOSQUITTO_PASSWD: &str = "/usr/bin/mosquitto_passwd";

/// What the broker asks of its clients; the default is anonymous over plain TCP.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Users and passwords (a `password_file` made with `mosquitto_passwd`); with any, anonymous
    /// clients are refused.
    pub users: Vec<(String, String)>,
    /// A second listener, with TLS, on [`Broker::tls_port`]: the CA, the broker's certificate and its key
    /// (PEM files). The plain one stays for the tests' publishers.
    pub tls: Option<(PathBuf, PathBuf, PathBuf)>,
    /// With `tls`: clients must show a certificate signed by the CA.
    pub require_client_certificate: bool,
}

/// A mosquitto on a free port of its own, with its persistence in a temporary folder; killed on drop.
pub struct Broker {
    child: Child,
    pub port: u16,
    /// The TLS listener's port (0 without `Options::tls`).
    pub tls_port: u16,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// `None` (with a printed skip) when mosquitto is not installed; under CI=true that is a failure.
    pub fn start() -> Option<Broker> {
        Broker::start_with(&Options::default())
    }

    /// A broker that asks what `options` say of its clients.
    #[allow(clippy::print_stderr)]
    pub fn start_with(options: &Options) -> Option<Broker> {
        if !Path::new(MOSQUITTO).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "mosquitto is missing ({MOSQUITTO}); .ci/run installs it"
            );
            eprintln!("skipped: mosquitto is not installed (apt-get install mosquitto)");
            return None;
        }
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mosquitto.conf");
        // Unlimited in-flight and queued messages: the defaults (20 and 1000) would hold back a connector
        // that acknowledges per commit, and drop what is queued for it while it is down.
        let mut text = format!(
            "listener {port} 127.0.0.1\npersistence true\npersistence_location {}/\nmax_inflight_messages 0\nmax_queued_messages 0\n",
            dir.path().display()
        );
        if options.users.is_empty() {
            text.push_str("allow_anonymous true\n");
        } else {
            let file = password_file(dir.path(), &options.users)?;
            text.push_str(&format!(
                "allow_anonymous false\npassword_file {}\n",
                file.display()
            ));
        }
        let mut tls_port = 0;
        if let Some((ca, cert, key)) = &options.tls {
            tls_port = free_port();
            text.push_str(&format!(
                "listener {tls_port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate {}\n",
                ca.display(),
                cert.display(),
                key.display(),
                options.require_client_certificate
            ));
        }
        std::fs::write(&config, text).unwrap();
        Some(Broker {
            child: spawn_mosquitto(&config, port),
            port,
            tls_port,
            config,
            _dir: dir,
        })
    }

    /// kill -9 and start again on the same port: what the broker had not saved (the connector's session)
    /// is gone, so the connector must reconnect and subscribe again by itself.
    pub fn crash_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn_mosquitto(&self.config, self.port);
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub const OPENSSL: &str = "/usr/bin/openssl";

/// PEM files made by `openssl` for a TLS test: a CA, a broker certificate for 127.0.0.1 and a client
/// certificate signed by it, and a second CA that signed neither.
pub struct Certificates {
    pub ca: PathBuf,
    pub server: (PathBuf, PathBuf),
    pub client: (PathBuf, PathBuf),
    pub other_ca: PathBuf,
}

/// `None` (with a printed skip) when openssl is missing; under CI=true that is a failure.
#[allow(clippy::print_stderr)]
pub fn certificates(dir: &Path) -> Option<Certificates> {
    if !Path::new(OPENSSL).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{OPENSSL} is missing (Debian package openssl)"
        );
        eprintln!("skipped: {OPENSSL} is not installed (apt-get install openssl)");
        return None;
    }
    let openssl = |args: &[&str]| {
        let out = Command::new(OPENSSL)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    for ca in ["ca", "other-ca"] {
        let (key, pem, subject) = (
            format!("{ca}.key"),
            format!("{ca}.pem"),
            format!("/CN={ca}"),
        );
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend([
            "-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subject,
        ]);
        openssl(&args);
    }
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    for leaf in ["server", "client"] {
        let (key, csr, pem) = (
            format!("{leaf}.key"),
            format!("{leaf}.csr"),
            format!("{leaf}.pem"),
        );
        let subject = format!("/CN=127.0.0.1/O={leaf}");
        let mut args = vec!["req"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
        openssl(&args);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ]);
    }
    // mosquitto started as root reads the files after dropping to its own user: let it (test keys only).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    Some(Certificates {
        ca: dir.join("ca.pem"),
        server: (dir.join("server.pem"), dir.join("server.key")),
        client: (dir.join("client.pem"), dir.join("client.key")),
        other_ca: dir.join("other-ca.pem"),
    })
}

/// The users' password file, hashed by mosquitto's own tool; `None` (a printed skip) when it is missing.
#[allow(clippy::print_stderr)]
fn password_file(dir: &Path, users: &[(String, String)]) -> Option<PathBuf> {
    if !Path::new(MOSQUITTO_PASSWD).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{MOSQUITTO_PASSWD} is missing (Debian package mosquitto)"
        );
        eprintln!("skipped: {MOSQUITTO_PASSWD} is not installed (apt-get install mosquitto)");
        return None;
    }
    let file = dir.join("passwords");
    for (i, (user, password)) in users.iter().enumerate() {
        let mut command = Command::new(MOSQUITTO_PASSWD);
        if i == 0 {
            command.arg("-c");
        }
        let status = command
            .arg("-b")
            .arg(&file)
            .arg(user)
            .arg(password)
            .stdout(Stdio::null())
            .status()
            .expect("run mosquitto_passwd");
        assert!(status.success(), "mosquitto_passwd failed");
    }
    Some(file)
}

fn spawn_mosquitto(config: &Path, port: u16) -> Child {
    let child = Command::new(MOSQUITTO)
        .arg("-c")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mosquitto");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "mosquitto did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
