//! A small blocking HTTP client for the node's REST API that turns RFC 9457 problem responses
//! into readable errors.

use anyhow::{Context, Result, anyhow};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A client for one node.
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

fn problem_message(status: u16, body: &str) -> anyhow::Error {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => {
            let title = v.get("title").and_then(Value::as_str).unwrap_or("error");
            let detail = v.get("detail").and_then(Value::as_str).unwrap_or("");
            anyhow!("the node answered {status} {title}: {detail}")
        }
        Err(_) => anyhow!("the node answered {status}: {}", body.chars().take(300).collect::<String>()),
    }
}

impl Client {
    /// A client for the node at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        Client { base: base.trim_end_matches('/').to_owned(), agent }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn finish<T: DeserializeOwned>(
        &self,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        what: &str,
    ) -> Result<(u16, T)> {
        let mut resp = resp.with_context(|| {
            format!("cannot reach the node at {} ({what}); is it running? set --node", self.base)
        })?;
        let status = resp.status().as_u16();
        let body =
            resp.body_mut().read_to_string().with_context(|| format!("reading the answer to {what}"))?;
        if status >= 400 {
            return Err(problem_message(status, &body));
        }
        let v = serde_json::from_str(&body)
            .with_context(|| format!("the node's answer to {what} is not the expected JSON"))?;
        Ok((status, v))
    }

    /// GET a JSON resource.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let r = self.agent.get(&self.url(path)).call();
        Ok(self.finish(r, path)?.1)
    }

    /// GET a JSON resource with a signed request (`Civic-Signer`, `Civic-Timestamp`,
    /// `Civic-Signature`), as endpoints serving personal data require.
    pub fn get_signed<T: DeserializeOwned>(
        &self,
        path: &str,
        signer: &str,
        key: &civic_types::SecretKey,
    ) -> Result<T> {
        let ts = civic_node::now_ms().get();
        let sig = key.sign(&civic_api::auth::request_signing_bytes("GET", path, ts));
        let r = self
            .agent
            .get(&self.url(path))
            .header(civic_api::auth::SIGNER, signer)
            .header(civic_api::auth::TIMESTAMP, &ts.to_string())
            .header(civic_api::auth::SIGNATURE, &sig.to_string())
            .call();
        Ok(self.finish(r, path)?.1)
    }

    /// Every page of a list endpoint: GETs `path` (which may carry a query already), then again
    /// with `after` set to each answer's `next` until there is none, and returns the `field`
    /// arrays of all pages in order. Signed with `signer` when given.
    pub fn get_all(
        &self,
        path: &str,
        field: &str,
        signer: Option<(&str, &civic_types::SecretKey)>,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page_path = match &after {
                None => path.to_owned(),
                Some(a) => {
                    let sep = if path.contains('?') { '&' } else { '?' };
                    format!("{path}{sep}after={}", query_value(a))
                }
            };
            let v: Value = match signer {
                Some((who, key)) => self.get_signed(&page_path, who, key)?,
                None => self.get(&page_path)?,
            };
            out.extend(v[field].as_array().cloned().unwrap_or_default());
            match v["next"].as_str() {
                Some(n) => after = Some(n.to_owned()),
                None => return Ok(out),
            }
        }
    }

    /// POST JSON, returning the status and the JSON answer.
    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<(u16, T)> {
        let r = self.agent.post(&self.url(path)).send_json(body);
        self.finish(r, path)
    }
}

/// `s` percent-encoded for a query value (unreserved characters, `:` and `/` kept).
pub(crate) fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
