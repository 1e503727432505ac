//! The server's crash and concurrency guarantees through the real binary over real sockets: a
//! `millwright serve` killed with SIGKILL in the middle of a training or an ingest job, restarted on the
//! same home; the server and the command line writing one home at once.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{scalar as count, Home};
use serde_json::Value;

/// A `millwright serve --bind 127.0.0.1:0` process; killed (SIGKILL) when dropped.
struct Serve {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Serve {
    fn start(h: &Home) -> Serve {
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let out = h.dir.path().join(format!("serve-{n}.out"));
        let log = h.dir.path().join(format!("serve-{n}.log"));
        let mut child = h
            .command(&["--json", "serve", "--bind", "127.0.0.1:0"])
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(line) = text.lines().next().filter(|_| text.contains('\n')) {
                let announced: Value = serde_json::from_str(line).unwrap();
                let url = announced["listening"].as_str().unwrap();
                break url.strip_prefix("http://").unwrap().to_owned();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "serve exited with {status}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "serve did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Serve { child, addr, log }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A plain HTTP/1.1 request; the status and the body.
    fn request(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<(&str, &[u8])>,
    ) -> (u16, String) {
        let mut socket = TcpStream::connect(&self.addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let (content_type, bytes) = body.unwrap_or(("application/json", b""));
        write!(
            socket,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            bytes.len()
        )
        .unwrap();
        socket.write_all(bytes).unwrap();
        let mut text = String::new();
        socket.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }

    fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.request("GET", path, token, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Starts a job; its id.
    fn post_job(&self, path: &str, token: &str, content_type: &str, body: &[u8]) -> i64 {
        let (status, text) = self.request("POST", path, token, Some((content_type, body)));
        assert_eq!(status, 202, "POST {path}: {text}");
        let job: Value = serde_json::from_str(&text).unwrap();
        job["id"].as_i64().unwrap()
    }

    fn job(&self, id: i64, token: &str) -> Value {
        self.get(&format!("/api/v1/jobs/{id}"), token)
    }

    /// Polls a job until `done` says so; its record then.
    fn wait_job(&self, id: i64, token: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let job = self.job(id, token);
            if done(&job) {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} never {what}: {job}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn wait_final(&self, id: i64, token: &str) -> Value {
        self.wait_job(id, token, "finished", |j| {
            matches!(
                j["state"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            )
        })
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn operator(h: &Home) -> String {
    h.ok(&["token", "create", "--name", "ops", "--role", "operator"])
        .trim()
        .to_owned()
}

/// Rows a model can learn: `id,temperature,speed,label`.
fn training_csv(rows: u32, seed: u32) -> String {
    let mut csv = String::from("id,temperature,speed,label\n");
    for i in 0..rows {
        let label = u8::from((i * 7 + seed).is_multiple_of(5));
        csv.push_str(&format!(
            "{i},{:.2},{},{label}\n",
            20.0 + f64::from(label) * 3.0 + f64::from((i + seed) % 7) * 0.4,
            1500 + (i * 3 + seed) % 11
        ));
    }
    csv
}

/// Every file and folder below `dir` with file sizes, sorted: a snapshot to compare.
fn tree(dir: &Path) -> Vec<(String, u64)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                out.push((format!("{rel}/"), 0));
                walk(root, &path, out);
            } else {
                out.push((rel, path.metadata().unwrap().len()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn kill_9_during_a_training_job_fails_the_job_and_leaves_the_registry_unchanged() {
    let h = Home::new();
    let token = operator(&h);
    std::fs::write(h.home().join("small.csv"), training_csv(200, 1)).unwrap();
    std::fs::write(h.home().join("rows.csv"), training_csv(4000, 2)).unwrap();
    let small = h.home().join("small.csv");
    h.ok(&[
        "train",
        "--train",
        small.to_str().unwrap(),
        "--target",
        "label",
        "--drop",
        "id",
        "--model",
        "logistic",
        "--name",
        "failure",
    ]);
    let models_before = h.json(&["models"]);
    assert_eq!(
        models_before.as_array().unwrap().len(),
        1,
        "{models_before}"
    );
    let tree_before = tree(&h.home().join("models"));
    let runs_before = h.json(&["runs"]);
    assert_eq!(runs_before["total"], 1, "{runs_before}");

    let server = Serve::start(&h);
    let body = serde_json::json!({
        "train": "rows.csv", "target": "label", "drop": ["id"], "model": "mlp", "name": "failure",
        "epochs": 1_000_000, "threshold": "0.5",
    });
    let id = server.post_job(
        "/api/v1/train",
        &token,
        "application/json",
        body.to_string().as_bytes(),
    );
    server.wait_job(id, &token, "ran", |j| j["state"] == "running");
    // The tracked run exists and has logged epochs to its metrics file: the kill lands in the middle of
    // the training.
    let deadline = Instant::now() + Duration::from_secs(120);
    let run_id = loop {
        let runs = h.json(&["runs", "--status", "running"]);
        let logged = runs["runs"].as_array().unwrap().iter().find_map(|r| {
            let id = r["id"].as_str().unwrap();
            let shown = h.json(&["runs", "show", id]);
            let epochs = shown["last_epoch"]
                .as_object()
                .map_or(0, serde_json::Map::len);
            (epochs > 0).then(|| id.to_owned())
        });
        if let Some(id) = logged {
            break id;
        }
        assert!(Instant::now() < deadline, "no epoch logged: {runs}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(server.job(id, &token)["state"], "running");
    let dead = server.pid();
    server.kill9();
    assert!(!is_alive(dead));

    let server = Serve::start(&h);
    let job = server.job(id, &token);
    assert_eq!(job["state"], "failed", "{job}");
    let reason = job["error"].as_str().unwrap();
    assert!(reason.contains("server stopped"), "{reason}");
    assert!(job["finished"].is_string(), "{job}");

    // The registry is as it was: the same versions, not a file more or less under models/.
    assert_eq!(h.json(&["models"]), models_before);
    assert_eq!(tree(&h.home().join("models")), tree_before);
    assert_eq!(server.get("/api/v1/models", &token), models_before);

    // The run says it failed, not that it is still running.
    let run = h.json(&["runs", "show", &run_id]);
    assert_eq!(run["status"], "failed", "{run}");
    assert!(run["error"].as_str().unwrap().contains("stopped"), "{run}");
    let running = h.json(&["runs", "--status", "running"]);
    assert_eq!(running["total"], 0, "{running}");
    let text = h.ok(&["runs"]);
    let line = text.lines().find(|l| l.contains(&run_id[..8])).unwrap();
    assert!(
        line.contains("failed") && !line.contains("running"),
        "{text}"
    );

    // The home takes new work: the same training, short, registers version 2.
    let body = serde_json::json!({
        "train": "small.csv", "target": "label", "drop": ["id"], "model": "logistic", "name": "failure",
    });
    let id = server.post_job(
        "/api/v1/train",
        &token,
        "application/json",
        body.to_string().as_bytes(),
    );
    let job = server.wait_final(id, &token);
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["result"]["model"], "failure@2", "{job}");
}

fn big_csv(rows: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows as usize * 12);
    writeln!(out, "i,x").unwrap();
    for i in 0..rows {
        writeln!(out, "{i},{}", (i % 997) as f64 / 7.0).unwrap();
    }
    out
}

#[test]
fn kill_9_during_an_ingest_job_leaves_the_previous_version_and_no_scratch_file() {
    let h = Home::new();
    let token = operator(&h);
    let small = h.file("small.csv", "i,x\n1,0.5\n2,0.25\n");
    h.ok(&["ingest", small.to_str().unwrap(), "--dataset", "k"]);
    let big = big_csv(3_000_000);

    let server = Serve::start(&h);
    let dead = server.pid();
    let id = server.post_job(
        "/api/v1/datasets/k/ingest?format=csv&mode=append",
        &token,
        "text/csv",
        &big,
    );
    server.wait_job(id, &token, "ran", |j| j["state"] == "running");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.job(id, &token)["state"],
        "running",
        "the ingest finished before the kill; make the upload bigger"
    );
    // The upload's scratch copy carries the pid of the server that owns it.
    let scratch: Vec<String> = std::fs::read_dir(h.home().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        scratch
            .iter()
            .any(|n| n.starts_with(&format!("upload-{dead}-"))),
        "{scratch:?}"
    );
    server.kill9();

    // The lake reads the old version, whole, without a server.
    assert_eq!(count(&h, "SELECT COUNT(*) FROM k"), 2);
    assert_eq!(count(&h, "SELECT SUM(i) FROM k"), 3);
    assert_eq!(h.json(&["history", "k"]).as_array().unwrap().len(), 1);

    // A second server on the home, alive, with an upload of its own in the scratch folder: a restart
    // must leave that one alone and remove only the dead server's.
    let live = h
        .home()
        .join("tmp")
        .join(format!("upload-{}-keep.csv", std::process::id()));
    std::fs::write(&live, "i,x\n").unwrap();
    let server = Serve::start(&h);
    let job = server.job(id, &token);
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("server stopped"),
        "{job}"
    );
    let scratch: Vec<String> = std::fs::read_dir(h.home().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !scratch.iter().any(|n| n.contains(&format!("-{dead}-"))),
        "the killed server's upload was left: {scratch:?}"
    );
    assert!(live.is_file(), "a live process's upload was removed");

    let history: Value = server.get("/api/v1/datasets/k/history", &token);
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    let id = server.post_job(
        "/api/v1/datasets/k/ingest?format=csv&mode=append",
        &token,
        "text/csv",
        b"i,x\n3,1.5\n",
    );
    assert_eq!(server.wait_final(id, &token)["state"], "succeeded");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM k"), 3);
    assert_eq!(h.json(&["history", "k"]).as_array().unwrap().len(), 2);
}

#[test]
fn an_api_ingest_and_a_cli_ingest_into_one_dataset_at_once_lose_nothing() {
    let h = Home::new();
    let token = operator(&h);
    let seed = h.file("seed.csv", "src,i\nseed,0\n");
    h.ok(&["ingest", seed.to_str().unwrap(), "--dataset", "d"]);
    let server = Serve::start(&h);
    let rounds = 4u64;
    let rows = 100_000u64;
    let (mut api_ok, mut cli_ok, mut overlapped) = (0i64, 0i64, 0u32);
    for round in 0..rounds {
        let file = |src: &str| {
            let mut csv = String::from("src,i\n");
            for i in 0..rows {
                csv.push_str(&format!("{src},{}\n", round * rows + i));
            }
            csv
        };
        let cli_file = h.file(&format!("cli-{round}.csv"), file("cli"));
        let mut cli = h
            .command(&[
                "ingest",
                cli_file.to_str().unwrap(),
                "--dataset",
                "d",
                "--mode",
                "append",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let id = server.post_job(
            "/api/v1/datasets/d/ingest?format=csv&mode=append",
            &token,
            "text/csv",
            file("api").as_bytes(),
        );
        // Watch both: the round counts as concurrent when the job ran while the CLI process was alive.
        let deadline = Instant::now() + Duration::from_secs(240);
        let (status, job) = loop {
            let job = server.job(id, &token);
            let cli_done = cli.try_wait().unwrap();
            if job["state"] == "running" && cli_done.is_none() {
                overlapped += 1;
            }
            let final_job = matches!(
                job["state"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            );
            if let (Some(status), true) = (cli_done, final_job) {
                break (status, job);
            }
            assert!(
                Instant::now() < deadline,
                "round {round} never ended: {job}"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut err = String::new();
        cli.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let cli = (status, err);
        // Each one succeeds or says why it did not; a failure is a clean one (checked by the counts below).
        match job["state"].as_str().unwrap() {
            "succeeded" => api_ok += 1,
            "failed" => eprintln!("round {round}: the API ingest failed: {}", job["error"]),
            other => panic!("round {round}: job {other}: {job}"),
        }
        if cli.0.success() {
            cli_ok += 1;
        } else {
            assert!(!cli.1.trim().is_empty(), "a CLI failure without a message");
            eprintln!("round {round}: the CLI ingest failed: {}", cli.1);
        }
    }
    let rows = rows as i64;
    assert_eq!(
        count(&h, "SELECT COUNT(*) FROM d WHERE src = 'api'"),
        api_ok * rows
    );
    assert_eq!(
        count(&h, "SELECT COUNT(*) FROM d WHERE src = 'cli'"),
        cli_ok * rows
    );
    assert_eq!(
        count(
            &h,
            "SELECT COUNT(DISTINCT src || '-' || CAST(i AS VARCHAR)) FROM d"
        ),
        1 + (api_ok + cli_ok) * rows,
        "a row is duplicated"
    );
    let history = h.json(&["history", "d"]);
    assert_eq!(
        history.as_array().unwrap().len() as i64,
        1 + api_ok + cli_ok,
        "{history}"
    );
    assert!(overlapped > 0, "the two ingests never ran at the same time");
    // Concurrent appends do not conflict: all of them go in.
    assert_eq!((api_ok, cli_ok), (rounds as i64, rounds as i64));
}

#[test]
fn an_api_training_and_a_cli_training_of_one_name_at_once_get_distinct_versions() {
    let h = Home::new();
    let token = operator(&h);
    std::fs::write(h.home().join("rows.csv"), training_csv(1500, 3)).unwrap();
    let rows = h.home().join("rows.csv");
    let server = Serve::start(&h);
    let rounds = 3;
    let mut registered = Vec::new();
    let mut overlapped = 0u32;
    for round in 0..rounds {
        let body = serde_json::json!({
            "train": "rows.csv", "target": "label", "drop": ["id"], "model": "mlp", "name": "failure",
            "epochs": 15, "threshold": "0.5",
        });
        let mut cli = h
            .command(&[
                "--json",
                "train",
                "--train",
                rows.to_str().unwrap(),
                "--target",
                "label",
                "--drop",
                "id",
                "--model",
                "mlp",
                "--epochs",
                "15",
                "--threshold",
                "0.5",
                "--name",
                "failure",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let id = server.post_job(
            "/api/v1/train",
            &token,
            "application/json",
            body.to_string().as_bytes(),
        );
        let deadline = Instant::now() + Duration::from_secs(240);
        let job = loop {
            let job = server.job(id, &token);
            let cli_done = cli.try_wait().unwrap().is_some();
            if job["state"] == "running" && !cli_done {
                overlapped += 1;
            }
            let final_job = matches!(
                job["state"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            );
            if cli_done && final_job {
                break job;
            }
            assert!(
                Instant::now() < deadline,
                "round {round} never ended: {job}"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let out = cli.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "round {round}: CLI train failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        registered.push(printed["model"].as_str().unwrap().to_owned());
        assert_eq!(job["state"], "succeeded", "{job}");
        registered.push(job["result"]["model"].as_str().unwrap().to_owned());
    }
    assert!(
        overlapped > 0,
        "the two trainings never ran at the same time"
    );
    let mut sorted = registered.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        2 * rounds,
        "a version given twice: {registered:?}"
    );
    let listed: Vec<String> = h
        .json(&["models"])
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}@{}", m["name"].as_str().unwrap(), m["version"]))
        .collect();
    let mut expected: Vec<String> = (1..=2 * rounds).map(|v| format!("failure@{v}")).collect();
    expected.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected, "{listed:?}");
    assert_eq!(h.json(&["runs"])["total"], 2 * rounds as u64);
}

#[test]
fn the_cli_writes_tokens_while_the_server_audits_requests_without_locking_errors() {
    let h = Home::new();
    let token = operator(&h);
    let server = Serve::start(&h);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Every one of these requests writes an audit row and reads the tokens table.
    let hammer = {
        let stop = stop.clone();
        let addr = server.addr.clone();
        let token = token.clone();
        std::thread::spawn(move || {
            let mut answered = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let mut socket = TcpStream::connect(&addr).unwrap();
                write!(
                    socket,
                    "POST /api/v1/jobs/999/cancel HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                let mut text = String::new();
                socket.read_to_string(&mut text).unwrap();
                assert_eq!(&text[9..12], "404", "{text}");
                answered += 1;
            }
            answered
        })
    };
    let made: Vec<_> = (0..12)
        .map(|i| {
            h.command(&["token", "create", "--name", &format!("t{i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut secrets = Vec::new();
    for child in made {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "token create failed: {err}");
        assert!(!err.contains("locked"), "{err}");
        secrets.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
    }
    h.ok(&["token", "revoke", "t0"]);
    let audit = h.json(&["audit", "--limit", "10"]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let answered = hammer.join().unwrap();
    assert!(answered > 0);
    assert!(!audit.as_array().unwrap().is_empty());
    // The server sees what the CLI wrote at once.
    assert_eq!(
        server
            .request("GET", "/api/v1/datasets", &secrets[1], None)
            .0,
        200
    );
    assert_eq!(
        server
            .request("GET", "/api/v1/datasets", &secrets[0], None)
            .0,
        401
    );
    let listed = h.json(&["token", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 13);
    let logs = server.logs();
    assert!(!logs.contains("locked"), "{logs}");
}

#[test]
fn a_second_server_on_the_home_leaves_the_first_ones_running_job_alone() {
    let h = Home::new();
    let token = operator(&h);
    std::fs::write(h.home().join("rows.csv"), training_csv(2000, 4)).unwrap();
    let first = Serve::start(&h);
    let body = serde_json::json!({
        "train": "rows.csv", "target": "label", "drop": ["id"], "model": "mlp", "name": "failure",
        "epochs": 1_000_000, "threshold": "0.5",
    });
    let id = first.post_job(
        "/api/v1/train",
        &token,
        "application/json",
        body.to_string().as_bytes(),
    );
    first.wait_job(id, &token, "ran", |j| j["state"] == "running");
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.json(&["runs", "--status", "running"])["total"] != 1 {
        assert!(
            Instant::now() < deadline,
            "the training's run never appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A second server starts on the same home while the first one trains: the job and its run are the
    // first one's, still running; the second refuses to cancel what it does not run.
    let second = Serve::start(&h);
    assert_eq!(second.job(id, &token)["state"], "running");
    assert_eq!(first.job(id, &token)["state"], "running");
    assert_eq!(h.json(&["runs", "--status", "running"])["total"], 1);
    let (status, body) = second.request("POST", &format!("/api/v1/jobs/{id}/cancel"), &token, None);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("another server"), "{body}");

    // Once the first one is gone, a server starting fails the job and its run.
    drop(second);
    first.kill9();
    let third = Serve::start(&h);
    let job = third.job(id, &token);
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(h.json(&["runs", "--status", "running"])["total"], 0);
    assert_eq!(h.json(&["runs", "--status", "failed"])["total"], 1);
}

#[test]
fn cancelling_a_running_mlp_training_stops_it_between_epochs_and_registers_nothing() {
    let h = Home::new();
    let token = operator(&h);
    std::fs::write(h.home().join("rows.csv"), training_csv(2000, 5)).unwrap();
    let server = Serve::start(&h);
    // Once during the threshold's inner fit (no epoch is logged there), once during the final fit.
    for threshold in [None, Some("0.5")] {
        let mut body = serde_json::json!({
            "train": "rows.csv", "target": "label", "drop": ["id"], "model": "mlp", "name": "failure",
            "epochs": 1_000_000,
        });
        if let Some(t) = threshold {
            body["threshold"] = t.into();
        }
        let id = server.post_job(
            "/api/v1/train",
            &token,
            "application/json",
            body.to_string().as_bytes(),
        );
        server.wait_job(id, &token, "ran", |j| j["state"] == "running");
        std::thread::sleep(Duration::from_millis(500));
        let (status, text) =
            server.request("POST", &format!("/api/v1/jobs/{id}/cancel"), &token, None);
        assert_eq!(status, 200, "{text}");
        let asked = Instant::now();
        let job = server.wait_final(id, &token);
        assert_eq!(job["state"], "cancelled", "{job}");
        assert!(
            asked.elapsed() < Duration::from_secs(20),
            "the cancel took {:?}",
            asked.elapsed()
        );
    }
    assert_eq!(h.json(&["models"]), serde_json::json!([]));
    assert_eq!(h.json(&["runs", "--status", "running"])["total"], 0);
}
