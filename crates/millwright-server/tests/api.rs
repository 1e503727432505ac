//! The API over real sockets: a server on 127.0.0.1:0 per test, called with a real HTTP client. The
//! security checks walk the routes the server's own OpenAPI document lists.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use millwright_server::store::{JobState, Role, Store};
use millwright_server::{ServeConfig, ServeError, Server};
use serde_json::Value;

struct TestServer {
    base: String,
    addr: SocketAddr,
    home: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), ServeError>>>,
}

impl TestServer {
    async fn start(home: &Path) -> TestServer {
        let mut config = ServeConfig::new(home, "127.0.0.1:0".parse().unwrap());
        config.json_limit = 64 << 10;
        config.upload_limit = 1 << 20;
        config.header_timeout = Duration::from_secs(1);
        let server = Server::new(config).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tell, listening) = tokio::sync::oneshot::channel::<SocketAddr>();
        let task = tokio::spawn(server.run(
            async move {
                let _ = stopped.await;
            },
            move |addr| {
                let _ = tell.send(addr);
            },
        ));
        let addr = tokio::time::timeout(Duration::from_secs(10), listening)
            .await
            .expect("server did not start")
            .unwrap();
        TestServer {
            base: format!("http://{addr}"),
            addr,
            home: home.to_owned(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn token(&self, name: &str, role: Role) -> String {
        Store::open(&self.home)
            .unwrap()
            .create_token(name, role)
            .unwrap()
            .token
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(35), task)
                .await
                .expect("server did not stop")
                .unwrap()
                .unwrap();
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Every operation in the document: method, path with sample parameters, and whether it is public.
async fn operations(server: &TestServer) -> Vec<(reqwest::Method, String, bool)> {
    let doc: Value = client()
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(serde_json::Map::is_empty))
            });
            let concrete = path.replace("{id}", "1").replace("{name}", "milling");
            out.push((method, concrete, public));
        }
    }
    assert!(
        out.len() > 20,
        "too few operations in the document: {out:?}"
    );
    out
}

async fn error_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    assert!(
        body["error"]["message"].is_string() && body["error"]["details"].is_array(),
        "status {status}: not the error envelope: {body}"
    );
    (status, code)
}

#[tokio::test]
async fn every_route_needs_a_token_and_mutations_need_a_role() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let viewer = server.token("viewer", Role::Viewer);
    let operator = server.token("ops", Role::Operator);
    let http = client();
    let ops = operations(&server).await;
    // Routes that share a path with another method are each in the document (the walk below sees them).
    for (method, path) in [
        ("DELETE", "/api/v1/datasets/milling"),
        ("GET", "/api/v1/runs/1"),
        ("DELETE", "/api/v1/runs/1"),
        ("GET", "/api/v1/twin/runs/1"),
        ("DELETE", "/api/v1/twin/runs/1"),
        ("POST", "/api/v1/reports"),
        ("GET", "/api/v1/reports"),
        ("GET", "/api/v1/reports/1"),
        ("DELETE", "/api/v1/reports/1"),
        ("GET", "/api/v1/trash/datasets"),
        ("DELETE", "/api/v1/trash/datasets"),
        ("DELETE", "/api/v1/trash/datasets/1"),
        ("POST", "/api/v1/trash/datasets/1/restore"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/milling"),
        ("POST", "/api/v1/twin/run"),
        ("POST", "/api/v1/twin/optimize"),
        ("POST", "/api/v1/twin/emit"),
        ("GET", "/api/v1/runs/compare"),
    ] {
        assert!(
            ops.iter()
                .any(|(m, p, _)| m.as_str() == method && p == path),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    let public: Vec<&str> = ops.iter().filter(|o| o.2).map(|o| o.1.as_str()).collect();
    assert_eq!(public, ["/healthz", "/metrics", "/readyz"], "public routes");
    for (method, path, is_public) in &ops {
        let resp = http
            .request(method.clone(), server.url(path))
            .send()
            .await
            .unwrap();
        if *is_public {
            assert_eq!(resp.status(), 200, "{method} {path} is public");
            continue;
        }
        assert!(path.starts_with("/api/v1/"), "{path} outside /api/v1");
        assert_eq!(
            error_code(resp).await,
            (401, "unauthorized".into()),
            "{method} {path} without token"
        );
        let resp = http
            .request(method.clone(), server.url(path))
            .bearer_auth("mw_0000000000000000000000000000000000000000000000000000000000000000")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method} {path} with an unknown token");
        let mutating = *method != reqwest::Method::GET;
        let resp = http
            .request(method.clone(), server.url(path))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        if mutating || path.starts_with("/api/v1/audit") || path.starts_with("/api/v1/tokens") {
            assert_eq!(
                error_code(resp).await,
                (403, "forbidden".into()),
                "{method} {path} as viewer"
            );
        } else {
            assert_ne!(resp.status(), 401, "{method} {path} as viewer");
            assert_ne!(resp.status(), 403, "{method} {path} as viewer");
        }
    }
    // The audit log is the admin's.
    let resp = http
        .get(server.url("/api/v1/audit"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let admin = server.token("root", Role::Admin);
    let page: Value = http
        .get(server.url("/api/v1/audit?limit=500"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["token"] == "viewer" && e["status"] == 403),
        "refusals are audited"
    );
    assert!(
        entries.iter().all(|e| e["method"] != "GET"),
        "reads are not audited"
    );

    // A revoked token is refused at once.
    let resp = http
        .get(server.url("/api/v1/datasets"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    Store::open(dir.path())
        .unwrap()
        .revoke_token("viewer")
        .unwrap();
    let resp = http
        .get(server.url("/api/v1/datasets"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 401);
    server.stop().await;
}

#[tokio::test]
async fn names_and_paths_cannot_leave_the_home() {
    let outer = tempfile::tempdir().unwrap();
    let home = outer.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(outer.path().join("secret.csv"), "a,b\n1,2\n").unwrap();
    let server = TestServer::start(&home).await;
    let token = server.token("ops", Role::Admin);
    let http = client();
    let before: Vec<_> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    for path in [
        "/api/v1/datasets/..%2F..%2Fetc/schema",
        "/api/v1/datasets/..%2Fsecret/rows",
        "/api/v1/datasets/a%5Cb/history",
        "/api/v1/datasets/a%00b/quality",
        "/api/v1/models/..%2F..%2Fetc",
        "/api/v1/models/%2E%2E",
        "/api/v1/runs/..%2F..%2Fetc/metrics",
        "/api/v1/twin/runs/..%2F..%2Fetc",
        "/api/v1/twin/runs/..%2Fx/impact",
        "/api/v1/twin/runs/..%2Fx/plots",
        "/api/v1/reports/..%2F..%2Fetc",
    ] {
        let resp = http
            .get(server.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, _) = error_code(resp).await;
        assert!(status == 400 || status == 404, "{path}: {status}");
    }
    let upload = http
        .post(server.url("/api/v1/datasets/..%2Fescape/ingest?format=csv"))
        .bearer_auth(&token)
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(upload).await.0, 400);
    for body in [
        serde_json::json!({"train": "../secret.csv", "target": "b"}),
        serde_json::json!({"train": outer.path().join("secret.csv"), "target": "b"}),
        serde_json::json!({"dataset": "../x", "target": "b"}),
        serde_json::json!({"dataset": "x", "target": "b", "name": "../../m"}),
    ] {
        let resp = http
            .post(server.url("/api/v1/train"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, _) = error_code(resp).await;
        assert!(status == 400 || status == 404, "train {body}: {status}");
    }
    let resp = http
        .post(server.url("/api/v1/twin/compare"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"line": "/etc/passwd", "policies": ["preventive"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 400);
    let after: Vec<_> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "something was written beside the home");
    server.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limits_are_413_and_bad_json_is_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let token = server.token("ops", Role::Operator);
    let http = client();
    let big = format!("{{\"target\": \"{}\"}}", "x".repeat(100 << 10));
    let resp = http
        .post(server.url("/api/v1/train"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 413, "JSON over the JSON limit");
    // An upload over the upload limit, with a length...
    let resp = http
        .post(server.url("/api/v1/datasets/big/ingest?format=csv"))
        .bearer_auth(&token)
        .body(vec![b'1'; 2 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        413,
        "upload with Content-Length over the limit"
    );
    // ...and streamed without one: the limit stops the stream.
    let chunks =
        futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'1'; 64 << 10])));
    let resp = http
        .post(server.url("/api/v1/datasets/big/ingest?format=csv"))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(resp).await.0,
        413,
        "chunked upload over the limit"
    );
    let tmp = dir.path().join("tmp");
    let left = std::fs::read_dir(&tmp).map_or(0, |d| d.count());
    assert_eq!(left, 0, "a refused upload left its scratch file");

    let resp = http
        .post(server.url("/api/v1/train"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"target\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await, (400, "malformed_json".into()));
    let resp = http
        .post(server.url("/api/v1/twin/compare"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"policies": "preventive"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await, (422, "invalid_input".into()));
    let resp = http
        .post(server.url("/api/v1/train"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"target": "y", "no_such_option": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 422);
    server.stop().await;
}

const CSV: &str = "id,temperature,speed,label\n\
1,20.5,1500,0\n2,21.0,1510,0\n3,22.5,1490,1\n4,19.8,1505,0\n5,23.1,1520,1\n\
6,20.9,1499,0\n7,21.7,1501,0\n8,24.0,1530,1\n9,20.2,1495,0\n10,22.2,1512,0\n";

/// Reads a job's event stream to its end; returns the final state and how many events came.
async fn watch(server: &TestServer, token: &str, job: i64) -> (String, usize, Value) {
    let resp = client()
        .get(server.url(&format!("/api/v1/jobs/{job}/events")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = resp.bytes_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while let Some(chunk) = tokio::time::timeout_at(deadline.into(), stream.next())
        .await
        .expect("stream stalled")
    {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                events.push(serde_json::from_str::<Value>(data).unwrap());
            }
        }
    }
    let last = events.last().cloned().expect("no events");
    assert_eq!(
        last["type"], "state",
        "the stream ends with the final state: {last}"
    );
    (
        last["state"].as_str().unwrap().to_owned(),
        events.len(),
        last,
    )
}

#[tokio::test]
async fn an_uploaded_csv_is_ingested_as_a_job_watched_and_queried() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let token = server.token("mes", Role::Operator);
    let http = client();
    let resp = http
        .post(server.url("/api/v1/datasets/milling/ingest"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let job: Value = resp.json().await.unwrap();
    let id = job["id"].as_i64().unwrap();
    assert_eq!(job["kind"], "ingest");
    let (state, count, _) = watch(&server, &token, id).await;
    assert_eq!(state, "succeeded");
    assert!(
        count >= 3,
        "queued, running, progress..., succeeded: {count}"
    );
    // Watching a finished job replays it.
    let (again, replayed, _) = watch(&server, &token, id).await;
    assert_eq!((again.as_str(), replayed), ("succeeded", count));
    let job: Value = http
        .get(server.url(&format!("/api/v1/jobs/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["state"], "succeeded");
    assert_eq!(job["result"]["rows_written"], 10);
    assert_eq!(job["token"], "mes");

    let sql: Value = http
        .get(server.url("/api/v1/sql"))
        .query(&[(
            "q",
            "SELECT COUNT(*) AS n, SUM(label) AS failures FROM milling",
        )])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sql["rows"][0]["n"], 10, "{sql}");
    assert_eq!(sql["rows"][0]["failures"], 3, "{sql}");
    let rows: Value = http
        .get(server.url("/api/v1/datasets/milling/rows?limit=3&offset=2"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows["shown"], 3);
    assert_eq!(rows["rows"][0]["id"], 3, "{rows}");
    let list: Value = http
        .get(server.url("/api/v1/datasets"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "milling", "{list}");
    for sub in ["schema", "quality", "history"] {
        let resp = http
            .get(server.url(&format!("/api/v1/datasets/milling/{sub}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{sub}");
    }
    // Creating it again conflicts: the job fails with the lake's reason, the table is unchanged.
    let job: Value = http
        .post(server.url("/api/v1/datasets/milling/ingest?format=csv"))
        .bearer_auth(&token)
        .body(CSV)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (state, _, last) = watch(&server, &token, job["id"].as_i64().unwrap()).await;
    assert_eq!(state, "failed");
    assert!(
        last["error"].as_str().unwrap().contains("already exists"),
        "{last}"
    );
    let page: Value = http
        .get(server.url("/api/v1/jobs?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["jobs"].as_array().unwrap().len(), 1);
    let next = page["next"].as_i64().unwrap();
    let older: Value = http
        .get(server.url(&format!("/api/v1/jobs?before={next}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(older["jobs"][0]["id"], id);

    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("millwright_http_requests_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("millwright_rows_ingested_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("millwright_jobs{state=\"succeeded\"}"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn sql_that_writes_attaches_or_reads_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let token = server.token("viewer", Role::Viewer);
    let http = client();
    for q in [
        "INSERT INTO milling VALUES (1)",
        "CREATE TABLE t AS SELECT 1",
        "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "COPY (SELECT 1) TO '/tmp/millwright-copy.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM \"file:///etc/passwd\"",
        "DROP TABLE milling",
        "SELECT 1; DELETE FROM milling",
        "SET datafusion.catalog.information_schema = true",
    ] {
        let resp = http
            .get(server.url("/api/v1/sql"))
            .query(&[("q", q)])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, code) = error_code(resp).await;
        assert!(status == 400 || status == 422, "{q}: {status} {code}");
    }
    assert!(!Path::new("/tmp/millwright-copy.csv").exists());
    let ok: Value = http
        .get(server.url("/api/v1/sql"))
        .query(&[("q", "SELECT 1 AS one")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["rows"][0]["one"], 1, "{ok}");
    server.stop().await;
}

#[tokio::test]
async fn a_slow_loris_client_does_not_starve_others_and_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let addr = server.addr;
    let slow = tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 512];
        // The server closes the connection (or answers 408) once the header timeout passes.
        let n = socket.read(&mut buf).unwrap_or(0);
        (
            started.elapsed(),
            String::from_utf8_lossy(&buf[..n]).into_owned(),
        )
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    for _ in 0..5 {
        let resp = client().get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "others waited {:?}",
        started.elapsed()
    );
    let (held, answer) = slow.await.unwrap();
    assert!(
        held < Duration::from_secs(5),
        "the slow client held its socket {held:?}"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    server.stop().await;
}

#[tokio::test]
async fn jobs_a_stopped_server_left_running_are_failed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::open(dir.path()).unwrap();
        let id = store
            .job_insert("train", &serde_json::json!({"target": "y"}), "mes")
            .unwrap();
        store.job_started(id).unwrap();
        id
    };
    let server = TestServer::start(dir.path()).await;
    let token = server.token("v", Role::Viewer);
    let job: Value = client()
        .get(server.url(&format!("/api/v1/jobs/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["state"], "failed");
    assert_eq!(job["error"], millwright_server::store::INTERRUPTED);
    let (state, _, _) = watch(&server, &token, id).await;
    assert_eq!(state, "failed");
    assert_eq!(
        Store::open(dir.path()).unwrap().job_get(id).unwrap().state,
        JobState::Failed
    );
    server.stop().await;
}

#[tokio::test]
async fn a_public_address_needs_an_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig::new(dir.path(), "0.0.0.0:0".parse().unwrap());
    let Err(err) = Server::new(config.clone()) else {
        panic!("started on 0.0.0.0 without an admin token");
    };
    assert!(matches!(err, ServeError::NoAdminToken { .. }), "{err}");
    Store::open(dir.path())
        .unwrap()
        .create_token("ops", Role::Operator)
        .unwrap();
    assert!(
        Server::new(config.clone()).is_err(),
        "an operator token is not enough"
    );
    Store::open(dir.path())
        .unwrap()
        .create_token("root", Role::Admin)
        .unwrap();
    assert!(Server::new(config).is_ok());
}

async fn post_job(server: &TestServer, token: &str, path: &str, body: &Value) -> i64 {
    let resp = client()
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let job: Value = resp.json().await.unwrap();
    assert_eq!(status, 202, "{path}: {job}");
    job["id"].as_i64().unwrap()
}

async fn get_json(server: &TestServer, token: &str, path: &str) -> Value {
    let resp = client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test]
async fn train_then_list_models_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let token = server.token("ops", Role::Operator);
    let mut csv = String::from("id,temperature,speed,label\n");
    for i in 0..200 {
        let label = u8::from(i % 5 == 0);
        csv.push_str(&format!(
            "{i},{},{},{label}\n",
            20.0 + f64::from(label) * 3.0 + f64::from(i % 7) * 0.1,
            1500 + i % 11
        ));
    }
    let resp = client()
        .post(server.url("/api/v1/datasets/parts/ingest?format=csv"))
        .bearer_auth(&token)
        .body(csv)
        .send()
        .await
        .unwrap();
    let job: Value = resp.json().await.unwrap();
    assert_eq!(
        watch(&server, &token, job["id"].as_i64().unwrap()).await.0,
        "succeeded"
    );
    let body = serde_json::json!({"dataset": "parts", "target": "label", "drop": ["id"], "model": "logistic", "name": "failure"});
    let id = post_job(&server, &token, "/api/v1/train", &body).await;
    let (state, _, last) = watch(&server, &token, id).await;
    assert_eq!(state, "succeeded", "{last}");
    let models = get_json(&server, &token, "/api/v1/models").await;
    assert_eq!(models[0]["name"], "failure", "{models}");
    get_json(&server, &token, "/api/v1/models/failure").await;
    let resp = client()
        .get(server.url("/api/v1/models/nothing"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 404);
    let runs = get_json(&server, &token, "/api/v1/runs?limit=5").await;
    assert_eq!(runs["total"], 1, "{runs}");
    let run_id = runs["runs"][0]["id"].as_str().unwrap().to_owned();
    let run = get_json(&server, &token, &format!("/api/v1/runs/{run_id}")).await;
    assert!(run.get("dir").is_none(), "server paths leak: {run}");
    get_json(&server, &token, &format!("/api/v1/runs/{run_id}/metrics")).await;
    let resp = client()
        .get(server.url("/api/v1/runs?status=sideways"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 422);
    server.stop().await;
}

#[tokio::test]
async fn twin_compare_impact_and_report_as_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let token = server.token("ops", Role::Operator);
    let line = millwright_twin::EXAMPLE_LINE;
    std::fs::write(dir.path().join("line.toml"), line).unwrap();
    std::fs::write(dir.path().join("clean.toml"), "[rename]\n\"a\" = \"b\"\n").unwrap();
    let lines = get_json(&server, &token, "/api/v1/twin/lines").await;
    assert_eq!(
        lines,
        serde_json::json!([{"file": "line.toml", "name": "milling-line", "stations": 5}])
    );
    let body = serde_json::json!({
        "line_toml": line, "policies": ["preventive", "predictive"], "model": "rules",
        "replications": 3, "horizon": "3d",
    });
    let id = post_job(&server, &token, "/api/v1/twin/compare", &body).await;
    let (state, _, last) = watch(&server, &token, id).await;
    assert_eq!(state, "succeeded", "{last}");
    let job = get_json(&server, &token, &format!("/api/v1/jobs/{id}")).await;
    let run_id = job["result"]["run_id"].as_str().unwrap().to_owned();
    let runs = get_json(&server, &token, "/api/v1/twin/runs").await;
    assert_eq!(runs[0]["run_id"], run_id.as_str(), "{runs}");
    get_json(&server, &token, &format!("/api/v1/twin/runs/{run_id}")).await;
    let impact = get_json(
        &server,
        &token,
        &format!("/api/v1/twin/runs/{run_id}/impact"),
    )
    .await;
    assert!(impact.is_object(), "{impact}");
    // The run's charts: listed, served with their media type; only listed names are served.
    let plots = get_json(
        &server,
        &token,
        &format!("/api/v1/twin/runs/{run_id}/plots"),
    )
    .await;
    let files: Vec<&str> = plots
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["file"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"kpis.svg") && files.contains(&"gantt-predictive.png"),
        "{plots}"
    );
    let chart = |file: &str| {
        client()
            .get(server.url(&format!("/api/v1/twin/runs/{run_id}/plots/{file}")))
            .bearer_auth(&token)
            .send()
    };
    let svg = chart("kpis.svg").await.unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = chart("throughput.png").await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    for other in [
        "result.json",
        "line.toml",
        "..%2F..%2Fmillwright.db",
        "nope.svg",
    ] {
        let (status, body) = error_code(chart(other).await.unwrap()).await;
        assert_eq!(status, 404, "{other}: {body}");
    }
    let report = post_job(
        &server,
        &token,
        "/api/v1/reports",
        &serde_json::json!({"run_id": run_id}),
    )
    .await;
    let (state, _, last) = watch(&server, &token, report).await;
    assert_eq!(state, "succeeded", "{last}");
    let resp = client()
        .get(server.url(&format!("/api/v1/reports/{run_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("<html"));
    let reports = get_json(&server, &token, "/api/v1/reports").await;
    assert_eq!(reports[0]["name"], run_id.as_str(), "{reports}");
    // Reports are deleted by an admin, for good; the twin run stays.
    let resp = client()
        .delete(server.url(&format!("/api/v1/reports/{run_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let admin = server.token("root", Role::Admin);
    let resp = client()
        .delete(server.url(&format!("/api/v1/reports/{run_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client()
        .get(server.url(&format!("/api/v1/reports/{run_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 404);
    assert_eq!(
        get_json(&server, &token, "/api/v1/reports").await,
        serde_json::json!([])
    );
    get_json(&server, &token, &format!("/api/v1/twin/runs/{run_id}")).await;
    // The scratch line file went with its job.
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn cancel_stops_a_running_twin_job_and_a_queued_one_never_starts() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::new(dir.path(), "127.0.0.1:0".parse().unwrap());
    config.job_slots = 1;
    let server = {
        let server = Server::new(config).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tell, listening) = tokio::sync::oneshot::channel::<SocketAddr>();
        let task = tokio::spawn(server.run(
            async move {
                let _ = stopped.await;
            },
            move |addr| {
                let _ = tell.send(addr);
            },
        ));
        let addr = listening.await.unwrap();
        TestServer {
            base: format!("http://{addr}"),
            addr,
            home: dir.path().to_owned(),
            stop: Some(stop),
            task: Some(task),
        }
    };
    let token = server.token("ops", Role::Operator);
    let long = serde_json::json!({
        "line_toml": millwright_twin::EXAMPLE_LINE, "policies": ["preventive", "run-to-failure"],
        "replications": 1000, "horizon": "60d",
    });
    let running = post_job(&server, &token, "/api/v1/twin/compare", &long).await;
    let queued = post_job(&server, &token, "/api/v1/twin/compare", &long).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = get_json(&server, &token, &format!("/api/v1/jobs/{running}")).await;
        if job["state"] == "running" {
            break;
        }
        assert!(
            Instant::now() < deadline && job["state"] == "queued",
            "the job never started: {job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        get_json(&server, &token, &format!("/api/v1/jobs/{queued}")).await["state"],
        "queued"
    );
    for id in [queued, running] {
        let resp = client()
            .post(server.url(&format!("/api/v1/jobs/{id}/cancel")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let started = Instant::now();
    assert_eq!(watch(&server, &token, running).await.0, "cancelled");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "cancel took {:?}",
        started.elapsed()
    );
    assert_eq!(watch(&server, &token, queued).await.0, "cancelled");
    assert_eq!(
        get_json(&server, &token, "/api/v1/twin/runs").await,
        serde_json::json!([]),
        "a cancelled run was stored"
    );
    let resp = client()
        .post(server.url(&format!("/api/v1/jobs/{running}/cancel")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await.0, 409, "cancelling a finished job");
    server.stop().await;
}

/// An Arrow IPC stream of `rows` (temperature, speed) as the predict route reads one.
fn arrow_ipc(rows: &[(f64, f64)]) -> Vec<u8> {
    use millwright_data::arrow::array::{ArrayRef, Float64Array, RecordBatch};
    use millwright_data::arrow::ipc::writer::StreamWriter;
    let column = |f: fn(&(f64, f64)) -> f64| -> ArrayRef {
        std::sync::Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let batch =
        RecordBatch::try_from_iter([("temperature", column(|r| r.0)), ("speed", column(|r| r.1))])
            .unwrap();
    let mut out = Vec::new();
    let mut writer = StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    out
}

async fn predict(
    server: &TestServer,
    token: &str,
    spec: &str,
    kind: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = client()
        .post(server.url(&format!("/api/v1/models/{spec}/predict")))
        .bearer_auth(token)
        .header("content-type", kind)
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn predictions_by_alias_in_every_format_and_promotes_that_take_effect_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let token = server.token("ops", Role::Operator);
    let mut csv = String::from("id,temperature,speed,label\n");
    for i in 0..300 {
        let label = u8::from(i % 5 == 0);
        let temperature = 20.0 + f64::from(label) * 3.0 + f64::from(i % 7) * 0.1;
        csv.push_str(&format!("{i},{temperature},{},{label}\n", 1500 + i % 11));
    }
    let resp = client()
        .post(server.url("/api/v1/datasets/parts/ingest?format=csv"))
        .bearer_auth(&token)
        .body(csv)
        .send()
        .await
        .unwrap();
    let job: Value = resp.json().await.unwrap();
    assert_eq!(
        watch(&server, &token, job["id"].as_i64().unwrap()).await.0,
        "succeeded"
    );
    for model in ["logistic", "gbdt"] {
        let body = serde_json::json!({"dataset": "parts", "target": "label", "drop": ["id"], "model": model, "name": "failure"});
        let id = post_job(&server, &token, "/api/v1/train", &body).await;
        assert_eq!(watch(&server, &token, id).await.0, "succeeded");
    }
    let promote = |version: u32| {
        client()
            .post(server.url("/api/v1/models/failure/aliases/production"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "version": version }))
            .send()
    };
    assert_eq!(promote(1).await.unwrap().status(), 200);

    // The same rows as JSON, CSV and Arrow IPC score the same, with the alias's version.
    let rows = [(20.1, 1501.0), (23.4, 1507.0), (20.6, 1510.0)];
    let json: Vec<Value> = rows
        .iter()
        .map(|(t, s)| serde_json::json!({"temperature": t, "speed": s, "ignored": "x"}))
        .collect();
    let as_json = serde_json::to_vec(&serde_json::json!({ "rows": json })).unwrap();
    let as_csv = rows
        .iter()
        .fold(String::from("speed,temperature\n"), |acc, (t, s)| {
            acc + &format!("{s},{t}\n")
        });
    let mut answers = Vec::new();
    for (kind, body) in [
        ("application/json", as_json.clone()),
        ("text/csv", as_csv.into_bytes()),
        ("application/vnd.apache.arrow.stream", arrow_ipc(&rows)),
    ] {
        let (status, answer) = predict(&server, &token, "failure@production", kind, body).await;
        assert_eq!(status, 200, "{kind}: {answer}");
        assert_eq!(answer["version"], 1, "{answer}");
        assert_eq!(
            answer["predictions"].as_array().unwrap().len(),
            3,
            "{answer}"
        );
        answers.push(answer["predictions"].clone());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    // Asked for Arrow, the answer is an Arrow IPC stream of the same scores and decisions.
    let resp = client()
        .post(server.url("/api/v1/models/failure@production/predict"))
        .bearer_auth(&token)
        .header("content-type", "application/vnd.apache.arrow.stream")
        .header(
            "accept",
            "application/json;q=0.5, application/vnd.apache.arrow.stream",
        )
        .body(arrow_ipc(&rows))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.apache.arrow.stream"
    );
    let bytes = resp.bytes().await.unwrap();
    let mut reader =
        millwright_data::arrow::ipc::reader::StreamReader::try_new(&bytes[..], None).unwrap();
    assert_eq!(reader.schema().metadata()["version"], "1");
    assert_eq!(reader.schema().metadata()["model"], "failure");
    let batch = reader.next().unwrap().unwrap();
    assert!(reader.next().is_none());
    let column = |name: &str| batch.column_by_name(name).unwrap().clone();
    let scores = column("score");
    let scores = scores
        .as_any()
        .downcast_ref::<millwright_data::arrow::array::Float64Array>()
        .unwrap();
    let decisions = column("decision");
    let decisions = decisions
        .as_any()
        .downcast_ref::<millwright_data::arrow::array::StringArray>()
        .unwrap();
    for (r, expected) in answers[0].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            scores.value(r),
            expected["score"].as_f64().unwrap(),
            "row {r}"
        );
        assert_eq!(decisions.value(r), expected["decision"], "row {r}");
    }
    // One row takes the row path and gives the batch's score.
    let one = serde_json::to_vec(&serde_json::json!({"rows": [json[1]]})).unwrap();
    let (_, single) = predict(
        &server,
        &token,
        "failure@production",
        "application/json",
        one,
    )
    .await;
    assert_eq!(single["predictions"][0], answers[0][1]);

    // A missing column and a string where a number belongs are 422s naming the column.
    let missing = serde_json::to_vec(&serde_json::json!({"rows": [{"speed": 1500}]})).unwrap();
    let (status, err) = predict(&server, &token, "failure@1", "application/json", missing).await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("temperature"),
        "{err}"
    );
    let wrong =
        serde_json::to_vec(&serde_json::json!({"rows": [{"speed": 1500, "temperature": "hot"}]}))
            .unwrap();
    let (status, err) = predict(&server, &token, "failure@1", "application/json", wrong).await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("temperature"),
        "{err}"
    );
    let (status, _) = predict(
        &server,
        &token,
        "failure@staging",
        "application/json",
        as_json.clone(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = predict(
        &server,
        &token,
        "failure@1",
        "application/xml",
        b"<a/>".to_vec(),
    )
    .await;
    assert_eq!(status, 415);

    // A promote takes effect on the next request; a rollback too.
    assert_eq!(promote(2).await.unwrap().status(), 200);
    let (_, answer) = predict(
        &server,
        &token,
        "failure@production",
        "application/json",
        as_json.clone(),
    )
    .await;
    assert_eq!(answer["version"], 2, "{answer}");
    let resp = client()
        .post(server.url("/api/v1/models/failure/aliases/production/rollback"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, answer) = predict(
        &server,
        &token,
        "failure@production",
        "application/json",
        as_json,
    )
    .await;
    assert_eq!(answer["version"], 1, "{answer}");
    let aliases = get_json(&server, &token, "/api/v1/models/failure/aliases").await;
    assert!(
        aliases.to_string().contains("\"ops\""),
        "the actor is the token: {aliases}"
    );

    // Moves are audited, predictions are counted instead.
    let admin = server.token("root", Role::Admin);
    let audit = get_json(&server, &admin, "/api/v1/audit?limit=100")
        .await
        .to_string();
    assert!(audit.contains("/aliases/production"), "{audit}");
    assert!(!audit.contains("/predict"), "{audit}");
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("millwright_predictions_total"),
        "{metrics}"
    );
    server.stop().await;
}

/// Sends `method path` with `token` and an optional JSON body; the status and the JSON answer.
async fn call(
    server: &TestServer,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A CSV of `n` labelled rows a logistic model separates.
fn parts_csv(n: u32) -> String {
    let mut csv = String::from("id,temperature,speed,label\n");
    for i in 0..n {
        let label = u8::from(i % 5 == 0);
        let temperature = 20.0 + f64::from(label) * 3.0 + f64::from(i % 7) * 0.1;
        csv.push_str(&format!("{i},{temperature},{},{label}\n", 1500 + i % 11));
    }
    csv
}

async fn ingest(server: &TestServer, token: &str, dataset: &str, mode: &str, csv: String) {
    let resp = client()
        .post(server.url(&format!(
            "/api/v1/datasets/{dataset}/ingest?format=csv&mode={mode}"
        )))
        .bearer_auth(token)
        .body(csv)
        .send()
        .await
        .unwrap();
    let job: Value = resp.json().await.unwrap();
    let (state, _, last) = watch(server, token, job["id"].as_i64().unwrap()).await;
    assert_eq!(state, "succeeded", "{last}");
}

#[tokio::test]
async fn deletes_are_for_admins_audited_and_a_dataset_comes_back_until_vacuumed() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let ops = server.token("ops", Role::Operator);
    let admin = server.token("root", Role::Admin);
    ingest(&server, &ops, "parts", "create", parts_csv(200)).await;
    ingest(&server, &ops, "parts", "append", parts_csv(50)).await;
    for _ in 0..2 {
        let body = serde_json::json!({"dataset": "parts", "target": "label", "drop": ["id"], "model": "logistic", "name": "failure"});
        let id = post_job(&server, &ops, "/api/v1/train", &body).await;
        assert_eq!(watch(&server, &ops, id).await.0, "succeeded");
    }
    let (status, _) = call(
        &server,
        Method::POST,
        &ops,
        "/api/v1/models/failure/aliases/production",
        Some(&serde_json::json!({"version": 1})),
    )
    .await;
    assert_eq!(status, 200);

    // An operator may not delete; an admin may not delete what an alias serves: 409 naming the alias.
    let (status, _) = call(
        &server,
        Method::DELETE,
        &ops,
        "/api/v1/datasets/parts",
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, err) = call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/models/failure/versions/1",
        None,
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "conflict");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'production'"),
        "{err}"
    );
    let (status, gone) = call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/models/failure/versions/2",
        None,
    )
    .await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(gone["removed"]["deleted_by"], "root", "{gone}");
    let versions = get_json(&server, &ops, "/api/v1/models/failure").await;
    assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
    let (status, _) = predict(
        &server,
        &ops,
        "failure@2",
        "application/json",
        br#"{"rows":[{"temperature":20.0,"speed":1500}]}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 404, "a deleted version is not served");

    // A tracked run: by its full id only.
    let runs = get_json(&server, &ops, "/api/v1/runs?limit=5").await;
    let run_id = runs["runs"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &server,
        Method::DELETE,
        &admin,
        &format!("/api/v1/runs/{}", &run_id[..10]),
        None,
    )
    .await;
    assert_eq!(status, 400, "a prefix does not delete");
    let (status, deleted) = call(
        &server,
        Method::DELETE,
        &admin,
        &format!("/api/v1/runs/{run_id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, deleted["id"].as_str()),
        (200, Some(run_id.as_str()))
    );
    let (status, _) = call(
        &server,
        Method::GET,
        &ops,
        &format!("/api/v1/runs/{run_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(get_json(&server, &ops, "/api/v1/runs").await["total"], 1);

    // A dataset written by someone else (an ingest holds its lock) is not pulled from under them.
    {
        let lake = millwright_data::lake::Lake::open(dir.path()).unwrap();
        let _ingesting = lake.lock_shared("parts").unwrap();
        let (status, err) = call(
            &server,
            Method::DELETE,
            &admin,
            "/api/v1/datasets/parts",
            None,
        )
        .await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (409, Some("busy")),
            "{err}"
        );
    }
    let (status, entry) = call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/datasets/parts",
        None,
    )
    .await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(
        (entry["name"].as_str(), entry["latest_version"].as_i64()),
        (Some("parts"), Some(1))
    );
    let trash_id = entry["id"].as_str().unwrap().to_owned();
    assert_eq!(
        get_json(&server, &ops, "/api/v1/datasets").await,
        serde_json::json!([])
    );
    let (status, _) = call(
        &server,
        Method::GET,
        &ops,
        "/api/v1/datasets/parts/history",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let trash = get_json(&server, &ops, "/api/v1/trash/datasets").await;
    assert_eq!(trash[0]["id"], trash_id.as_str(), "{trash}");

    // Restoring is the admin's; it brings every version back.
    let restore = format!("/api/v1/trash/datasets/{trash_id}/restore");
    let (status, _) = call(&server, Method::POST, &ops, &restore, None).await;
    assert_eq!(status, 403);
    let (status, back) = call(&server, Method::POST, &admin, &restore, None).await;
    assert_eq!(status, 200, "{back}");
    let history = get_json(&server, &ops, "/api/v1/datasets/parts/history").await;
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    let (status, _) = call(&server, Method::POST, &admin, &restore, None).await;
    assert_eq!(status, 404, "an entry restores once");

    // Vacuum removes for good.
    call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/datasets/parts",
        None,
    )
    .await;
    let (status, purged) = call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/trash/datasets?older_than=1d",
        None,
    )
    .await;
    assert_eq!(
        (status, purged["purged"].as_array().unwrap().len()),
        (200, 0),
        "{purged}"
    );
    let (status, purged) = call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/trash/datasets/parts",
        None,
    )
    .await;
    assert_eq!(status, 200, "{purged}");
    assert_eq!(purged["purged"].as_array().unwrap().len(), 1, "{purged}");
    assert!(purged["freed_bytes"].as_u64().unwrap() > 0, "{purged}");
    let (status, _) = call(
        &server,
        Method::POST,
        &admin,
        "/api/v1/trash/datasets/parts/restore",
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        get_json(&server, &ops, "/api/v1/trash/datasets").await,
        serde_json::json!([])
    );

    // Hostile names are refused before anything is touched.
    for path in [
        "/api/v1/datasets/..%2F..%2Fetc",
        "/api/v1/datasets/parts__quarantine",
        "/api/v1/models/..%2Fx/versions/1",
        "/api/v1/runs/..%2F..%2Fetc",
        "/api/v1/twin/runs/..%2F..%2Fetc",
        "/api/v1/twin/runs/.hidden",
        "/api/v1/reports/..%2F..%2Fetc",
        "/api/v1/trash/datasets/..%2Fx",
    ] {
        let resp = client()
            .delete(server.url(path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let (status, _) = error_code(resp).await;
        assert_eq!(status, 400, "DELETE {path}");
    }
    let (status, _) = call(
        &server,
        Method::POST,
        &admin,
        "/api/v1/trash/datasets/..%2Fx.1/restore",
        None,
    )
    .await;
    assert_eq!(status, 400);

    // Each delete is in the audit log with the admin's name and its outcome, refusals included.
    let audit = get_json(&server, &admin, "/api/v1/audit?limit=500").await;
    let deletes: Vec<(String, u64)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "DELETE")
        .map(|e| {
            (
                e["token"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    for expected in [("root", 200), ("root", 409), ("ops", 403)] {
        assert!(
            deletes.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} not in {deletes:?}"
        );
    }
    assert!(audit.to_string().contains("/restore"), "{audit}");
    server.stop().await;
}

#[tokio::test]
async fn a_version_deleted_during_predictions_is_a_clean_404_never_a_fault() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let ops = server.token("ops", Role::Operator);
    let admin = server.token("root", Role::Admin);
    ingest(&server, &ops, "parts", "create", parts_csv(200)).await;
    let body = serde_json::json!({"dataset": "parts", "target": "label", "drop": ["id"], "model": "logistic", "name": "failure"});
    let id = post_job(&server, &ops, "/api/v1/train", &body).await;
    assert_eq!(watch(&server, &ops, id).await.0, "succeeded");
    let rows = br#"{"rows":[{"temperature":20.0,"speed":1500},{"temperature":23.5,"speed":1501}]}"#;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut scorers = Vec::new();
    for _ in 0..4 {
        let (base, ops, stop) = (server.base.clone(), ops.clone(), stop.clone());
        scorers.push(tokio::spawn(async move {
            let http = client();
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let resp = http
                    .post(format!("{base}/api/v1/models/failure@1/predict"))
                    .bearer_auth(&ops)
                    .header("content-type", "application/json")
                    .body(rows.to_vec())
                    .send()
                    .await
                    .unwrap();
                seen.push(resp.status().as_u16());
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = call(
        &server,
        reqwest::Method::DELETE,
        &admin,
        "/api/v1/models/failure/versions/1",
        None,
    )
    .await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut statuses = Vec::new();
    for s in scorers {
        statuses.extend(s.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 404),
        "only answers or not-found: {statuses:?}"
    );
    assert!(
        statuses.contains(&200) && statuses.last() == Some(&404),
        "{statuses:?}"
    );
    // A new training takes a new number, never the deleted one.
    let id = post_job(&server, &ops, "/api/v1/train", &body).await;
    let (_, _, last) = watch(&server, &ops, id).await;
    assert_eq!(last["state"], "succeeded", "{last}");
    let versions = get_json(&server, &ops, "/api/v1/models/failure").await;
    assert_eq!(versions[0]["version"], 2, "{versions}");
    server.stop().await;
}

#[tokio::test]
async fn twin_run_optimize_and_emit_as_jobs_and_stored_runs_deleted() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let ops = server.token("ops", Role::Operator);
    let admin = server.token("root", Role::Admin);
    std::fs::write(dir.path().join("line.toml"), millwright_twin::EXAMPLE_LINE).unwrap();
    let run = serde_json::json!({
        "line": "line.toml", "policy": "preventive", "interval": "180min",
        "replications": 2, "horizon": "2d",
    });
    let id = post_job(&server, &ops, "/api/v1/twin/run", &run).await;
    let (state, _, last) = watch(&server, &ops, id).await;
    assert_eq!(state, "succeeded", "{last}");
    let job = get_json(&server, &ops, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(job["kind"], "twin-run");
    let run_id = job["result"]["run_id"].as_str().unwrap().to_owned();
    let stored = get_json(&server, &ops, &format!("/api/v1/twin/runs/{run_id}")).await;
    assert_eq!(stored["policies"].as_array().unwrap().len(), 1, "{stored}");
    let plots = get_json(&server, &ops, &format!("/api/v1/twin/runs/{run_id}/plots")).await;
    assert!(
        plots
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["file"] == "kpis.svg"),
        "{plots}"
    );
    let resp = client()
        .get(server.url(&format!("/api/v1/twin/runs/{run_id}/plots/kpis.svg")))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/svg+xml");
    assert!(resp.text().await.unwrap().contains("<svg"));
    for file in [
        "result.json",
        "line.toml",
        "..%2F..%2Fmillwright.db",
        "nope.svg",
    ] {
        let resp = client()
            .get(server.url(&format!("/api/v1/twin/runs/{run_id}/plots/{file}")))
            .bearer_auth(&ops)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(resp).await.0, 404, "{file}");
    }

    let optimize = serde_json::json!({
        "line_toml": millwright_twin::EXAMPLE_LINE, "policy": "predictive", "model": "rules",
        "values": ["0.2", "0.6"], "replications": 2, "horizon": "2d",
    });
    let id = post_job(&server, &ops, "/api/v1/twin/optimize", &optimize).await;
    let (state, _, last) = watch(&server, &ops, id).await;
    assert_eq!(state, "succeeded", "{last}");
    let job = get_json(&server, &ops, &format!("/api/v1/jobs/{id}")).await;
    let points = job["result"]["optimization"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{job}");
    let optimized = job["result"]["run_id"].as_str().unwrap().to_owned();
    let runs = get_json(&server, &ops, "/api/v1/twin/runs").await;
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs}");

    let emit =
        serde_json::json!({"line": "line.toml", "rows": 500, "seed": 3, "dataset": "emitted"});
    let id = post_job(&server, &ops, "/api/v1/twin/emit", &emit).await;
    let (state, _, last) = watch(&server, &ops, id).await;
    assert_eq!(state, "succeeded", "{last}");
    let datasets = get_json(&server, &ops, "/api/v1/datasets").await;
    assert_eq!(datasets[0]["name"], "emitted", "{datasets}");
    let rows = datasets[0]["rows"].as_u64().unwrap();
    assert!(rows > 400 && rows <= 500, "{datasets}");
    for bad in [
        serde_json::json!({"line": "line.toml", "rows": 5, "dataset": "../x"}),
        serde_json::json!({"line": "line.toml", "rows": 0, "dataset": "x"}),
        serde_json::json!({"line": "/etc/passwd", "rows": 5, "dataset": "x"}),
    ] {
        let (status, err) =
            call(&server, Method::POST, &ops, "/api/v1/twin/emit", Some(&bad)).await;
        assert!(status == 400 || status == 422, "{bad}: {status} {err}");
    }

    // Stored twin runs are the admin's to delete.
    let (status, _) = call(
        &server,
        Method::DELETE,
        &ops,
        &format!("/api/v1/twin/runs/{run_id}"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    for id in [&run_id, &optimized] {
        let (status, body) = call(
            &server,
            Method::DELETE,
            &admin,
            &format!("/api/v1/twin/runs/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = call(
            &server,
            Method::GET,
            &ops,
            &format!("/api/v1/twin/runs/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 404);
    }
    assert_eq!(
        get_json(&server, &ops, "/api/v1/twin/runs").await,
        serde_json::json!([])
    );
    server.stop().await;
}

#[tokio::test]
async fn tokens_over_http_are_the_admins_and_a_revoke_takes_effect_at_once() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let ops = server.token("ops", Role::Operator);
    let admin = server.token("root", Role::Admin);
    let new = serde_json::json!({"name": "scada", "role": "viewer"});
    let (status, _) = call(&server, Method::POST, &ops, "/api/v1/tokens", Some(&new)).await;
    assert_eq!(status, 403);
    let (status, _) = call(&server, Method::GET, &ops, "/api/v1/tokens", None).await;
    assert_eq!(status, 403, "listing tokens is the admin's");
    let resp = client()
        .post(server.url("/api/v1/tokens"))
        .bearer_auth(&admin)
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let made: Value = resp.json().await.unwrap();
    let secret = made["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mw_"), "{made}");
    let (status, _) = call(&server, Method::GET, &secret, "/api/v1/datasets", None).await;
    assert_eq!(status, 200, "the new token works");
    let (status, _) = call(&server, Method::POST, &admin, "/api/v1/tokens", Some(&new)).await;
    assert_eq!(status, 409, "an active name is not given twice");
    for bad in [
        serde_json::json!({"name": "x", "role": "root"}),
        serde_json::json!({"name": "../x", "role": "viewer"}),
    ] {
        let (status, _) = call(&server, Method::POST, &admin, "/api/v1/tokens", Some(&bad)).await;
        assert_eq!(status, 422, "{bad}");
    }
    let (_, listed) = call(&server, Method::GET, &admin, "/api/v1/tokens", None).await;
    let text = listed.to_string();
    assert!(
        text.contains("\"scada\"") && !text.contains(&secret),
        "{listed}"
    );
    assert!(!text.contains("hash"), "{listed}");
    let (status, revoked) = call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/tokens/scada",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(revoked["revoked"].is_string(), "{revoked}");
    let (status, _) = call(&server, Method::GET, &secret, "/api/v1/datasets", None).await;
    assert_eq!(status, 401, "a revoked token is refused at once");
    let (status, _) = call(
        &server,
        Method::DELETE,
        &admin,
        "/api/v1/tokens/scada",
        None,
    )
    .await;
    assert_eq!(status, 404);
    // The CLI sees what the API did.
    let stored = Store::open(dir.path()).unwrap().list_tokens().unwrap();
    assert!(stored
        .iter()
        .any(|t| t.name == "scada" && t.revoked.is_some()));
    let audit = get_json(&server, &admin, "/api/v1/audit?limit=100")
        .await
        .to_string();
    assert!(
        audit.contains("/api/v1/tokens/scada") && !audit.contains(&secret),
        "{audit}"
    );
    server.stop().await;
}

#[tokio::test]
async fn runs_compared_and_a_model_evaluated_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let ops = server.token("ops", Role::Operator);
    ingest(&server, &ops, "parts", "create", parts_csv(200)).await;
    for model in ["logistic", "gbdt"] {
        let body = serde_json::json!({"dataset": "parts", "target": "label", "drop": ["id"], "model": model, "name": "failure"});
        let id = post_job(&server, &ops, "/api/v1/train", &body).await;
        assert_eq!(watch(&server, &ops, id).await.0, "succeeded");
    }
    let runs = get_json(&server, &ops, "/api/v1/runs").await;
    let (a, b) = (
        runs["runs"][1]["id"].as_str().unwrap(),
        runs["runs"][0]["id"].as_str().unwrap(),
    );
    let cmp = get_json(&server, &ops, &format!("/api/v1/runs/compare?a={a}&b={b}")).await;
    assert_eq!(
        (cmp["a"].as_str(), cmp["b"].as_str()),
        (Some(a), Some(b)),
        "{cmp}"
    );
    assert!(cmp["comparison"].is_object(), "{cmp}");
    let (status, _) = call(
        &server,
        reqwest::Method::GET,
        &ops,
        "/api/v1/runs/compare?a=nope&b=latest",
        None,
    )
    .await;
    assert_eq!(status, 400);

    std::fs::write(dir.path().join("labelled.csv"), parts_csv(60)).unwrap();
    for body in [
        serde_json::json!({"dataset": "parts"}),
        serde_json::json!({"file": "labelled.csv"}),
    ] {
        let id = post_job(&server, &ops, "/api/v1/models/failure@1/evaluate", &body).await;
        let (state, _, last) = watch(&server, &ops, id).await;
        assert_eq!(state, "succeeded", "{last}");
        let job = get_json(&server, &ops, &format!("/api/v1/jobs/{id}")).await;
        assert_eq!(job["result"]["model"], "failure@1", "{job}");
        assert!(job["result"]["metrics"].is_object(), "{job}");
    }
    for (spec, body, want) in [
        ("failure@9", serde_json::json!({"dataset": "parts"}), 404),
        (
            "failure@1",
            serde_json::json!({"file": "../outside.csv"}),
            404,
        ),
        ("failure@1", serde_json::json!({}), 422),
        ("failure@1", serde_json::json!({"dataset": "../x"}), 400),
    ] {
        let (status, err) = call(
            &server,
            reqwest::Method::POST,
            &ops,
            &format!("/api/v1/models/{spec}/evaluate"),
            Some(&body),
        )
        .await;
        assert_eq!(status, want, "{spec} {body}: {err}");
    }
    server.stop().await;
}
