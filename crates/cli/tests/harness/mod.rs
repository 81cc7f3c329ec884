//! Starts the real `civic` binary and talks to it over HTTP.

#![allow(dead_code, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use civic_ledger::{Call, ModuleCall, SignedTx, Transaction};
use civic_node::keyfile::KeyFile;
use civic_types::{AccountId, ChainId, Nonce, SecretKey};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_civic");

/// A running `civic dev` process.
pub struct DevNode {
    pub child: Child,
    pub url: String,
    pub dir: PathBuf,
    /// The OsmAnd gateway's address (`host:port`).
    pub osmand: String,
    /// The watch gateway's address (`host:port`).
    pub watch: String,
}

impl DevNode {
    /// Starts `civic dev` on a free port and waits until it listens.
    pub fn start(dir: &Path, extra: &[&str]) -> DevNode {
        let mut child = Command::new(BIN)
            .args(["dev", "--data-dir"])
            .arg(dir)
            .args(["--http", "127.0.0.1:0", "--osmand", "127.0.0.1:0", "--watch", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start civic dev");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut osmand, mut watch) = (String::new(), String::new());
        let url = loop {
            let line = rx.recv_timeout(Duration::from_secs(120)).expect("civic dev did not start listening");
            if let Some(rest) = line.trim().strip_prefix("OsmAnd gateway") {
                let addr = rest.trim().strip_prefix("http://").unwrap_or_default();
                osmand = addr.split('/').next().unwrap_or_default().to_owned();
            }
            if let Some(rest) = line.trim().strip_prefix("watch gateway") {
                let addr = rest.trim().strip_prefix("tcp://").unwrap_or_default();
                watch = addr.split_whitespace().next().unwrap_or_default().to_owned();
            }
            if let Some(rest) = line.strip_prefix("listening on ") {
                break rest.trim().to_owned();
            }
        };
        DevNode { child, url, dir: dir.to_path_buf(), osmand, watch }
    }

    /// Stops the node with SIGTERM and waits for it to exit cleanly.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success();
        assert!(ok);
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "civic dev exited with {status}");
    }

    /// Kills the node with SIGKILL (no chance to clean up).
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }

    pub fn key_path(&self, account: &str) -> PathBuf {
        let (org, name) = account.split_once('/').expect("org/name");
        self.dir.join("keys").join(format!("{org}.{name}.json"))
    }

    pub fn key(&self, account: &str) -> SecretKey {
        KeyFile::read(&self.key_path(account)).expect("key file").secret().expect("secret")
    }

    /// Runs a `civic` client command against this node.
    pub fn civic(&self, args: &[&str]) -> Output {
        Command::new(BIN).arg("--node").arg(&self.url).args(args).output().expect("run civic")
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        http_get(&format!("{}{}", self.url, path))
    }

    /// GET a text resource (e.g. `/metrics`); panics unless it answers 200.
    #[allow(dead_code)] // Not every test binary reads text.
    pub fn text(&self, path: &str) -> String {
        let mut resp = agent().get(format!("{}{}", self.url, path)).call().expect("get");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        resp.body_mut().read_to_string().expect("a text body")
    }

    /// GET with a request signed by `account`'s key (`Civic-Signer`, `Civic-Timestamp`,
    /// `Civic-Signature`).
    pub fn signed_get(&self, path: &str, account: &str) -> (u16, Value) {
        let ts =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis()
                as u64;
        let sig = self.key(account).sign(&civic_api::auth::request_signing_bytes("GET", path, ts));
        let mut resp = agent()
            .get(format!("{}{}", self.url, path))
            .header("Civic-Signer", account)
            .header("Civic-Timestamp", ts.to_string())
            .header("Civic-Signature", sig.to_string())
            .call()
            .expect("get");
        let (s, _, v) = finish(&mut resp);
        (s, v)
    }

    /// POST JSON with a request signed by `account`, the body's SHA-256 covered by the
    /// signature; `sent` replaces the body actually sent (to test substitution).
    #[allow(dead_code)] // Not every test binary signs posts.
    pub fn signed_post_json(
        &self,
        path: &str,
        body: &Value,
        account: &str,
        sent: Option<&Value>,
    ) -> (u16, Value) {
        let ts =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis()
                as u64;
        let bytes = serde_json::to_vec(body).expect("json");
        let digest = civic_types::sha256(&bytes);
        let sig = self
            .key(account)
            .sign(&civic_api::auth::request_signing_bytes_with_body("POST", path, ts, &digest));
        let sent = sent.map_or(bytes, |v| serde_json::to_vec(v).expect("json"));
        let mut resp = agent()
            .post(format!("{}{}", self.url, path))
            .header("Content-Type", "application/json")
            .header("Civic-Signer", account)
            .header("Civic-Timestamp", ts.to_string())
            .header("Civic-Signature", sig.to_string())
            .header("Civic-Content-SHA256", digest.to_hex())
            .send(&sent[..])
            .expect("post");
        let (s, _, v) = finish(&mut resp);
        (s, v)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> (u16, String, Value) {
        let agent = agent();
        let mut resp = agent.post(format!("{}{}", self.url, path)).send_json(body).expect("post");
        finish(&mut resp)
    }

    pub fn post_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String, Value) {
        let agent = agent();
        let mut resp = agent
            .post(format!("{}{}", self.url, path))
            .header("content-type", content_type)
            .send(&body[..])
            .expect("post");
        finish(&mut resp)
    }

    /// Declares a body of `declared_len` bytes but sends only the first KiB, then reads the
    /// answer. A server that enforces its limit from the declared length answers at once.
    pub fn post_oversized(&self, path: &str, declared_len: usize) -> (u16, String, Value) {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {declared_len}\r\n\r\n"
        );
        s.write_all(head.as_bytes()).expect("write head");
        let _ = s.write_all(&[b' '; 1024]);
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = s.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_string();
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse::<usize>().ok());
                if len.is_some_and(|l| buf.len() >= i + 4 + l) {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status");
        let ct = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_owned()))
            .unwrap_or_default();
        (status, ct, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// Builds and signs a transaction for `account` using its key file and the node's nonce.
    pub fn sign<C: ModuleCall>(&self, account: &str, call: &C) -> SignedTx {
        let (_, n) = self.get(&format!("/v1/accounts/{account}/nonce"));
        let nonce = n["nonce"].as_u64().expect("nonce");
        self.sign_with_nonce(account, nonce, call)
    }

    pub fn sign_with_nonce<C: ModuleCall>(&self, account: &str, nonce: u64, call: &C) -> SignedTx {
        Transaction {
            chain_id: ChainId::new("civic-dev").expect("chain id"),
            signer: AccountId::new(account).expect("account"),
            nonce: Nonce::new(nonce),
            call: Call::new(call),
        }
        .sign(&self.key(account))
    }

    /// Submits and waits for the commit; `None` when the node cannot be reached (killed).
    pub fn try_submit_wait(&self, tx: &SignedTx) -> Option<(u16, Value)> {
        let body = json!({ "tx": B64.encode(tx.to_bytes()) });
        let mut resp = agent().post(format!("{}/v1/txs?wait=commit", self.url)).send_json(&body).ok()?;
        let status = resp.status().as_u16();
        let v: Value = resp.body_mut().read_json().ok()?;
        Some((status, v))
    }

    /// Submits and waits for the commit; returns (status, body).
    pub fn submit_wait(&self, tx: &SignedTx) -> (u16, Value) {
        let (s, _, v) = self.post_json("/v1/txs?wait=commit", &json!({ "tx": B64.encode(tx.to_bytes()) }));
        (s, v)
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn finish(resp: &mut ureq::http::Response<ureq::Body>) -> (u16, String, Value) {
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, ct, v)
}

pub fn http_get(url: &str) -> (u16, Value) {
    let mut resp = agent().get(url).call().expect("get");
    let (s, _, v) = finish(&mut resp);
    (s, v)
}

/// Runs `civic verify-state` on a stopped node's data directory and asserts it succeeds.
pub fn assert_state_root_recomputes(dir: &Path) {
    let out = Command::new(BIN).args(["verify-state", "--data-dir"]).arg(dir).output().expect("run civic");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
