//! `token`, `audit` and `serve` through the real binary: a token made on the command line opens the
//! server it starts, a revoked one is refused, the audit log lists what happened, SIGTERM stops it.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Home;

/// A plain HTTP/1.1 request; returns the status code and the body.
fn request(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        socket,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    socket.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

#[test]
fn tokens_made_on_the_command_line_open_the_server_and_the_audit_log_records_it() {
    let home = Home::new();
    let operator = home.ok(&["token", "create", "--name", "mes", "--role", "operator"]);
    let operator = operator.trim().to_owned();
    assert!(
        operator.starts_with("mw_") && operator.len() == 67,
        "{operator}"
    );
    let viewer = home
        .ok(&["token", "create", "--name", "screen"])
        .trim()
        .to_owned();
    let again = home.run(&["token", "create", "--name", "mes", "--role", "admin"]);
    assert!(!again.status.success(), "a second token of one name");
    let bad = home.run(&["token", "create", "--name", "x", "--role", "root"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
    let list = home.ok(&["token", "list"]);
    assert!(
        list.contains("mes") && list.contains("operator") && list.contains("viewer"),
        "{list}"
    );
    assert!(!list.contains(&operator), "token list shows a secret");
    let listed: serde_json::Value =
        serde_json::from_str(&home.ok(&["--json", "token", "list"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let refused = home.run(&["serve", "--bind", "0.0.0.0:0"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no admin token"));

    let mut server = home
        .command(&["--json", "serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let announced: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = announced["listening"].as_str().unwrap();
    let addr = url.strip_prefix("http://").unwrap().to_owned();

    assert_eq!(request(&addr, "GET", "/healthz", None).0, 200);
    assert_eq!(request(&addr, "GET", "/api/v1/datasets", None).0, 401);
    assert_eq!(
        request(&addr, "GET", "/api/v1/datasets", Some(&viewer)).0,
        200
    );
    assert_eq!(
        request(&addr, "POST", "/api/v1/jobs/7/cancel", Some(&viewer)).0,
        403
    );
    assert_eq!(
        request(&addr, "POST", "/api/v1/jobs/7/cancel", Some(&operator)).0,
        404
    );
    home.ok(&["token", "revoke", "screen"]);
    assert_eq!(
        request(&addr, "GET", "/api/v1/datasets", Some(&viewer)).0,
        401,
        "revoked"
    );

    let audit = home.ok(&["audit", "--limit", "5"]);
    assert!(
        audit.contains("screen") && audit.contains("-> 403"),
        "{audit}"
    );
    assert!(audit.contains("mes") && audit.contains("-> 404"), "{audit}");
    let entries: serde_json::Value = serde_json::from_str(&home.ok(&["--json", "audit"])).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 2, "{entries}");

    let pid = server.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(35),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "serve exit status {status}");
    let mut logs = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        !logs.contains(&operator) && !logs.contains(&viewer),
        "a token reached the logs"
    );
    assert!(logs.contains("shutting down"), "{logs}");
}
