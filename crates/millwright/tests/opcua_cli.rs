//! `millwright connect opc.tcp://…` and `millwright opcua browse` against a real OPC UA server (Python
//! asyncua, tests/peers/opcua_server.py) started by the test: subscriptions, polling, a node that does not
//! exist, a value that is not a number, and a server restart.

// The tests print a skip line when asyncua is not installed.
#![allow(clippy::print_stderr)]

mod common;

use common::connector::{wait_until, Connector};
use common::peer::{free_port, python_has, Peer};
use common::Home;

const SERVER: &str = "opcua_server.py";

fn nodes(home: &Home) -> std::path::PathBuf {
    home.file(
        "nodes.toml",
        r#"
source = "press7"
sampling_ms = 50
[[node]]
id = "ns=2;s=Press7.Temperature"
signal = "temperature"
[[node]]
id = "ns=2;s=Press7.Strokes"
signal = "strokes"
[[node]]
id = "ns=2;s=Press7.Running"
signal = "running"
[[node]]
id = "ns=2;s=Press7.Label"
signal = "label"
[[node]]
id = "ns=2;s=Press7.Nope"
signal = "nope"
"#,
    )
}

fn url(peer: &Peer) -> String {
    format!("opc.tcp://127.0.0.1:{}/", peer.port)
}

#[test]
fn subscriptions_keep_values_times_and_statuses_and_quarantine_what_cannot_be_read() {
    if !python_has("asyncua", "subscriptions") {
        return;
    }
    let home = Home::new();
    let peer = Peer::start(SERVER, free_port(), &home.home());
    let nodes = nodes(&home);
    let url = url(&peer);
    let args = [
        url.as_str(),
        "--nodes",
        nodes.to_str().unwrap(),
        "--dataset",
        "press7",
        "--commit-ms",
        "200",
    ];
    let connector = Connector::start_until(&home, &args, "\"event\":\"monitoring\"");
    let temperature = "SELECT COUNT(*) AS n FROM press7 WHERE signal = 'temperature'";
    wait_until(&home, temperature, 20);
    // While it runs, `connectors` shows it connected with its counters.
    let running = home.json(&["connectors", "--running"]);
    assert_eq!(running[0]["dataset"], "press7", "{running}");
    assert_eq!(running[0]["kind"], "opcua", "{running}");
    assert_eq!(running[0]["state"], "connected", "{running}");
    let result = connector.stop();
    assert!(result["readings"].as_u64().unwrap() >= 20, "{result}");
    let after = home.json(&["connectors"]);
    assert_eq!(after[0]["state"], "stopped", "{after}");
    assert!(after[0]["readings"].as_u64().unwrap() > 0, "{after}");
    assert!(
        after[0]["last_error"].as_str().unwrap().contains("Nope"),
        "{after}"
    );
    assert_eq!(
        home.json(&["connectors", "--running"]),
        serde_json::json!([])
    );

    // Temperature moves in steps of 0.5 from 20.0; the source and good quality are kept.
    let rows = home.json(&[
        "sql",
        "SELECT value, source, quality, time FROM press7 WHERE signal = 'temperature' ORDER BY time",
    ]);
    let rows = rows.as_array().unwrap();
    for row in rows {
        let v = row["value"].as_f64().unwrap();
        assert_eq!(((v - 20.0) * 2.0).fract(), 0.0, "{row}");
        assert_eq!(row["source"], "press7");
        assert_eq!(row["quality"], "good");
    }
    // Source timestamps: each within the last minutes, not the commit time.
    let spread = home.json(&[
        "sql",
        "SELECT COUNT(DISTINCT time) AS n FROM press7 WHERE signal = 'strokes'",
    ]);
    assert!(spread[0]["n"].as_u64().unwrap() >= 10, "{spread}");
    // Booleans are 0/1.
    let running = home.json(&[
        "sql",
        "SELECT MIN(value) AS lo, MAX(value) AS hi FROM press7 WHERE signal = 'running'",
    ]);
    assert!(running[0]["hi"].as_f64().unwrap() <= 1.0, "{running}");

    // The node that does not exist and the string value are in the quarantine with their reasons.
    let why = home.json(&["sql", "SELECT reason FROM press7__quarantine"]);
    let reasons: Vec<&str> = why
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("ns=2;s=Press7.Nope") && r.contains("no such node")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("only numbers and booleans")),
        "{reasons:?}"
    );
    let other = home.json(&[
        "sql",
        "SELECT COUNT(*) AS n FROM press7 WHERE signal IN ('label', 'nope')",
    ]);
    assert_eq!(other[0]["n"], 0);
}

#[test]
fn a_restarted_server_gets_its_subscriptions_back() {
    if !python_has("asyncua", "restart") {
        return;
    }
    let home = Home::new();
    let port = free_port();
    let mut peer = Peer::start(SERVER, port, &home.home());
    let nodes = home.file(
        "nodes.toml",
        "[[node]]\nid = \"ns=2;s=Press7.Strokes\"\nsignal = \"strokes\"\nsampling_ms = 50\n",
    );
    let url = url(&peer);
    let args = [
        url.as_str(),
        "--nodes",
        nodes.to_str().unwrap(),
        "--dataset",
        "press7",
        "--commit-ms",
        "200",
    ];
    let connector = Connector::start_until(&home, &args, "\"event\":\"monitoring\"");
    let all = "SELECT COUNT(*) AS n FROM press7";
    wait_until(&home, all, 10);
    peer.kill();
    connector.wait_for("\"event\":\"connection_lost\"");
    let listed = home.ok(&["connectors"]);
    assert!(listed.contains("reconnecting"), "{listed}");
    let before = home.json(&["sql", "SELECT MAX(value) AS m FROM press7"])[0]["m"]
        .as_f64()
        .unwrap();
    let _peer = Peer::start(SERVER, port, &home.home());
    connector.wait_for("\"event\":\"connected\"");
    // The server continues its count where it stopped: values above `before` came after the restart.
    let after = format!("SELECT COUNT(*) AS n FROM press7 WHERE value > {before}");
    wait_until(&home, &after, 10);
    // Killed without a word: its status file still says running, and the listing says it is gone.
    connector.kill9();
    let listed = home.json(&["connectors"]);
    assert_eq!(listed[0]["state"], "gone", "{listed}");
}

#[test]
fn polling_reads_servers_on_a_clock() {
    if !python_has("asyncua", "polling") {
        return;
    }
    let home = Home::new();
    let peer = Peer::start(SERVER, free_port(), &home.home());
    let nodes = home.file(
        "nodes.toml",
        "[[node]]\nid = \"ns=2;s=Press7.Temperature\"\nsignal = \"temperature\"\n",
    );
    let url = url(&peer);
    let args = [
        url.as_str(),
        "--nodes",
        nodes.to_str().unwrap(),
        "--dataset",
        "press7",
        "--poll",
        "100ms",
        "--commit-ms",
        "200",
        "--compact-every",
        "3",
    ];
    let connector = Connector::start_until(&home, &args, "\"polling_ms\":100");
    wait_until(&home, "SELECT COUNT(*) AS n FROM press7", 10);
    // A second connector for the same dataset is refused while the first runs.
    let twice = home.fails(&args_again(&args));
    assert!(
        twice.contains("already fed by a running opcua connector"),
        "{twice}"
    );
    let result = connector.stop();
    assert_eq!(result["rejected"], 0, "{result}");
    // --compact-every 3: the dataset was compacted as it went, and no reading was lost or doubled by it.
    let history = home.ok(&["history", "press7"]);
    assert!(history.contains("OPTIMIZE"), "{history}");
    let stored = home.json(&["sql", "SELECT COUNT(*) AS n FROM press7"]);
    assert_eq!(stored[0]["n"], result["readings"], "{stored} {result}");
}

fn args_again<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["connect"];
    all.extend_from_slice(args);
    all
}

#[test]
fn browse_lists_the_nodes_a_connector_can_watch() {
    if !python_has("asyncua", "browse") {
        return;
    }
    let home = Home::new();
    let peer = Peer::start(SERVER, free_port(), &home.home());
    let url = url(&peer);
    let out = home.ok(&["opcua", "browse", &url, "--depth", "2"]);
    assert!(out.contains("ns=2;s=Press7.Temperature"), "{out}");
    assert!(out.contains("Temperature  [Variable] = "), "{out}");
    let json = home.json(&[
        "opcua",
        "browse",
        &url,
        "--from",
        "ns=2;s=Press7",
        "--depth",
        "1",
    ]);
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"ns=2;s=Press7.Strokes"), "{ids:?}");
    let bad = home.fails(&["opcua", "browse", &url, "--from", "ns=2;x=what"]);
    assert!(bad.contains("is not a node id"), "{bad}");
}

#[test]
fn bad_nodes_files_and_unreachable_servers_are_named() {
    let home = Home::new();
    let nodes = home.file(
        "nodes.toml",
        "[[node]]\nid = \"ns=2;s=A\"\ndeadband = -2.0\n",
    );
    let err = home.fails(&[
        "connect",
        "opc.tcp://127.0.0.1:9/",
        "--nodes",
        nodes.to_str().unwrap(),
        "--dataset",
        "press7",
    ]);
    assert!(err.contains("nodes.toml:3:"), "{err}");
    assert!(err.contains("deadband"), "{err}");
    let nodes = home.file("ok.toml", "[[node]]\nid = \"ns=2;s=A\"\n");
    let port = free_port().to_string();
    let url = format!("opc.tcp://127.0.0.1:{port}/");
    let err = home.fails(&[
        "connect",
        &url,
        "--nodes",
        nodes.to_str().unwrap(),
        "--dataset",
        "press7",
    ]);
    assert!(err.contains("cannot open an OPC UA session"), "{err}");
    let err = home.fails(&["connect", &url, "--dataset", "press7"]);
    assert!(err.contains("--nodes"), "{err}");
    let err = home.fails(&[
        "connect",
        &url,
        "--nodes",
        nodes.to_str().unwrap(),
        "--dataset",
        "../etc",
    ]);
    assert!(err.contains("../etc"), "{err}");
}
