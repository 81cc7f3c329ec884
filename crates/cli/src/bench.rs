//! `civic bench tx`: committed transactions per second and submit-to-commit latency of a fresh
//! single-node network (real redb storage, real signatures, real block production), driven
//! in-process and over HTTP, reported beside this machine's Ed25519 verification limit measured
//! in the same run.
//!
//! `civic bench credentials`: full W3C license credential verifications per second (the check
//! the API runs: proof, did:civic resolution, trust registry, validity, ledger record, both
//! status bits) against the committed state of a fresh dev network, beside this machine's
//! single-signature Ed25519 verification rate measured the same way in the same run.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use civic_ledger::modules::membership::{GenesisAccount, GenesisOrg, GovernanceParams, Validator};
use civic_ledger::modules::notary::NotaryCall;
use civic_ledger::{Call, Genesis, SignedTx, Transaction};
use civic_node::{Node, NodeConfig, now_ms};
use civic_types::{
    AccountId, ChainId, Nonce, OrgId, PublicKey, Role, SecretKey, Signature, UnixMillis, sha256,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::run::Running;

mod ingest;
pub use ingest::{IngestBenchArgs, ingest};

/// Options of `civic bench tx`.
#[derive(clap::Args)]
pub struct TxBenchArgs {
    /// Transactions per phase.
    #[arg(long, default_value_t = 200_000)]
    pub txs: usize,
    /// Number of signing accounts.
    #[arg(long, default_value_t = 2_000)]
    pub accounts: usize,
    /// Most transactions per block.
    #[arg(long, default_value_t = 40_000)]
    pub block_txs: usize,
    /// Offered load of the paced phase, in transactions per second (0 skips it). Latency is
    /// only meaningful below saturation; the saturated phases measure throughput.
    #[arg(long, default_value_t = 10_000)]
    pub paced_rate: u64,
    /// Shortest time between blocks, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub block_interval_ms: u64,
    /// Transactions per submitted batch.
    #[arg(long, default_value_t = 2_000)]
    pub batch: usize,
    /// Embedded store of the benchmarked node.
    #[arg(long, value_enum, default_value = "fjall")]
    pub store: crate::run::Backend,
    /// Skip the HTTP phase.
    #[arg(long)]
    pub skip_http: bool,
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn bar(len: usize, msg: &str) -> ProgressBar {
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg.to_owned());
    pb
}

/// Ed25519 verifications per second: (single 1 thread, single all threads, batch 1 thread,
/// batch all threads).
fn ed25519_limit() -> (f64, f64, f64, f64) {
    let n = 16_384;
    let keys: Vec<SecretKey> = (0..64u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
    let msgs: Vec<Vec<u8>> = (0..n).map(|i: usize| i.to_le_bytes().repeat(20)).collect();
    let items: Vec<(PublicKey, &[u8], Signature)> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (keys[i % 64].public_key(), m.as_slice(), keys[i % 64].sign(m)))
        .collect();
    let single = |chunk: &[(PublicKey, &[u8], Signature)]| {
        for (k, m, s) in chunk {
            assert!(k.verify(m, s).is_ok());
        }
    };
    let batch = |chunk: &[(PublicKey, &[u8], Signature)]| {
        for b in chunk.chunks(64) {
            assert!(civic_types::verify_batch(b).iter().all(|ok| *ok));
        }
    };
    let run = |f: &(dyn Fn(&[(PublicKey, &[u8], Signature)]) + Sync), t: usize| {
        let start = Instant::now();
        std::thread::scope(|s| {
            for c in items.chunks(n.div_ceil(t)) {
                s.spawn(move || f(c));
            }
        });
        n as f64 / start.elapsed().as_secs_f64()
    };
    let t = threads();
    (run(&single, 1), run(&single, t), run(&batch, 1), run(&batch, t))
}

struct Workload {
    genesis: Genesis,
    validator: SecretKey,
    txs: Vec<SignedTx>,
}

fn workload(args: &TxBenchArgs, phase: u8) -> Result<Workload> {
    let org = OrgId::new("bench")?;
    let keys: Vec<SecretKey> = (0..args.accounts)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            seed[31] = 0xbe;
            SecretKey::from_seed(&seed)
        })
        .collect();
    let mut accounts: Vec<GenesisAccount> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| GenesisAccount {
            name: format!("a{i}"),
            public_key: k.public_key(),
            roles: BTreeSet::new(),
        })
        .collect();
    let admin = SecretKey::from_seed(&[0xad; 32]);
    accounts.push(GenesisAccount {
        name: "admin".into(),
        public_key: admin.public_key(),
        roles: BTreeSet::from([Role::Admin]),
    });
    let validator = SecretKey::from_seed(&[0x7a; 32]);
    let genesis = Genesis {
        chain_id: ChainId::new("civic-bench")?,
        genesis_time: UnixMillis::new(0),
        organizations: vec![GenesisOrg { id: org.clone(), name: "Benchmark".into(), accounts }],
        validators: vec![Validator {
            name: "bench-node".into(),
            org: org.clone(),
            public_key: validator.public_key(),
        }],
        governance: GovernanceParams::default(),
    };
    let ids: Vec<AccountId> = (0..args.accounts)
        .map(|i| AccountId::from_parts(&org, &format!("a{i}")))
        .collect::<Result<_, _>>()?;
    let pb = bar(args.txs, "signing transactions");
    let chain_id = genesis.chain_id.clone();
    let t = threads();
    let txs: Vec<SignedTx> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..t)
            .map(|w| {
                let (keys, ids, pb, chain_id) = (&keys, &ids, &pb, &chain_id);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for j in (w..args.txs).step_by(t) {
                        let a = j % args.accounts;
                        let mut doc = vec![phase];
                        doc.extend_from_slice(&(j as u64).to_le_bytes());
                        let call = NotaryCall::Notarize { digest: sha256(&doc), label: String::new() };
                        let tx = Transaction {
                            chain_id: chain_id.clone(),
                            signer: ids[a].clone(),
                            nonce: Nonce::new((j / args.accounts) as u64),
                            call: Call::new(&call),
                        }
                        .sign(&keys[a]);
                        out.push((j, tx));
                        if j % 1000 == 0 {
                            pb.inc(1000);
                        }
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<(usize, SignedTx)> =
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect();
        all.sort_by_key(|(j, _)| *j);
        all.into_iter().map(|(_, t)| t).collect()
    });
    pb.finish_and_clear();
    if txs.len() != args.txs {
        bail!("signing failed");
    }
    Ok(Workload { genesis, validator, txs })
}

struct PhaseResult {
    tps: f64,
    p50_ms: f64,
    p99_ms: f64,
    blocks: u64,
    seconds: f64,
}

/// Watches the head and records when each height appeared.
fn watch_heights(node: Arc<Node>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<(u64, Instant)>> {
    std::thread::spawn(move || {
        let mut seen = vec![(node.head().height.get(), Instant::now())];
        while !stop.load(Ordering::Relaxed) {
            let h = node.head().height.get();
            if h != seen[seen.len() - 1].0 {
                seen.push((h, Instant::now()));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        seen
    })
}

fn finish_phase(
    node: &Node,
    txs: &[SignedTx],
    submitted_at: &[Instant],
    heights: &[(u64, Instant)],
    start: Instant,
) -> Result<PhaseResult> {
    let first_height = heights[0].0;
    let mut latencies = Vec::with_capacity(txs.len());
    let mut last_commit = start;
    for (tx, sub) in txs.iter().zip(submitted_at) {
        let loc =
            node.store().tx_location(&tx.hash())?.context("a benchmark transaction was not committed")?;
        let h = loc.height.get();
        let committed =
            heights.iter().find(|(hh, _)| *hh >= h).map(|(_, t)| *t).context("no commit time recorded")?;
        last_commit = last_commit.max(committed);
        latencies.push(committed.saturating_duration_since(*sub).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let seconds = last_commit.duration_since(start).as_secs_f64();
    Ok(PhaseResult {
        tps: txs.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        blocks: heights.last().map_or(0, |(h, _)| h - first_height),
        seconds,
    })
}

fn node_config(args: &TxBenchArgs, dir: &std::path::Path) -> NodeConfig {
    let mut c = NodeConfig::new(dir.to_path_buf());
    c.max_block_txs = args.block_txs;
    c.mempool_capacity = args.txs.max(100_000) + args.batch;
    c.min_block_interval = Duration::from_millis(args.block_interval_ms);
    c
}

fn wait_all_committed(node: &Node, n: usize) {
    let target = n as u64;
    while node.metrics().txs_committed.get() < target {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A fresh node on the workload's genesis in a temporary directory (kept alive by the guard).
fn fresh_node(args: &TxBenchArgs, w: &Workload) -> Result<(tempfile::TempDir, Running)> {
    let dir = tempfile::tempdir()?;
    let running = Running::start(
        dir.path(),
        args.store,
        &w.genesis,
        w.validator.clone(),
        node_config(args, dir.path()),
    )?;
    Ok((dir, running))
}

fn in_process(args: &TxBenchArgs, rate: Option<u64>) -> Result<PhaseResult> {
    let w = workload(args, if rate.is_some() { 3 } else { 1 })?;
    let (_dir, running) = fresh_node(args, &w)?;
    let node = running.node.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_heights(node.clone(), stop.clone());
    let pb = bar(w.txs.len(), "in-process: committed");
    let start = Instant::now();
    let mut submitted_at = Vec::with_capacity(w.txs.len());
    for (i, chunk) in w.txs.chunks(args.batch).enumerate() {
        if let Some(rate) = rate {
            // Open-loop pacing: chunk i is due at i * batch / rate seconds.
            let due = start + Duration::from_secs_f64((i * args.batch) as f64 / rate as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let mut pending: Vec<SignedTx> = chunk.to_vec();
        let t = Instant::now();
        loop {
            let results = node.submit_batch(pending.clone());
            let mut retry = Vec::new();
            for (tx, r) in pending.into_iter().zip(results) {
                match r {
                    Ok(_) => {}
                    Err(civic_node::SubmitError::Mempool(civic_node::mempool::AdmitError::Full(_))) => {
                        retry.push(tx)
                    }
                    Err(e) => bail!("benchmark transaction refused: {e}"),
                }
            }
            if retry.is_empty() {
                break;
            }
            pending = retry;
            std::thread::sleep(Duration::from_millis(5));
        }
        submitted_at.extend(std::iter::repeat_n(t, chunk.len()));
        pb.set_position(node.metrics().txs_committed.get());
    }
    while node.metrics().txs_committed.get() < w.txs.len() as u64 {
        pb.set_position(node.metrics().txs_committed.get());
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_all_committed(&node, w.txs.len());
    pb.finish_and_clear();
    std::thread::sleep(Duration::from_millis(5));
    stop.store(true, Ordering::Relaxed);
    let heights = watcher.join().map_err(|_| anyhow::anyhow!("watcher panicked"))?;
    let r = finish_phase(&node, &w.txs, &submitted_at, &heights, start)?;
    drop(node);
    running.shutdown()?;
    Ok(r)
}

fn over_http(args: &TxBenchArgs) -> Result<PhaseResult> {
    let w = workload(args, 2)?;
    let (_dir, running) = fresh_node(args, &w)?;
    let node = running.node.clone();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server =
        rt.spawn(civic_api::serve(listener, node.clone(), civic_api::ApiOptions::default(), async {
            let _ = stop_rx.await;
        }));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_heights(node.clone(), stop.clone());
    let pb = bar(w.txs.len(), "over HTTP: committed");
    // Encode outside the timed section: clients arrive with signed bytes.
    let encoded: Vec<String> = w.txs.iter().map(|t| B64.encode(t.to_bytes())).collect();
    let start = Instant::now();
    let clients = 2;
    let chunks: Vec<(usize, &[String])> =
        encoded.chunks(args.batch).enumerate().map(|(i, c)| (i * args.batch, c)).collect();
    let submitted_at: Vec<Instant> = std::thread::scope(|s| -> Result<Vec<Instant>> {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (chunks, base) = (&chunks, &base);
                s.spawn(move || -> Result<Vec<(usize, Instant, usize)>> {
                    let agent: ureq::Agent =
                        ureq::Agent::config_builder().http_status_as_error(false).build().into();
                    let mut marks = Vec::new();
                    // Each client sends its share of chunks in order, so nonces arrive in order
                    // per account within a client; accounts are spread over both clients' chunks.
                    for (offset, chunk) in chunks.iter().skip(c).step_by(clients) {
                        let t = Instant::now();
                        let mut body = json!({ "txs": chunk });
                        loop {
                            let mut resp = agent.post(format!("{base}/v1/txs/batch")).send_json(&body)?;
                            let status = resp.status().as_u16();
                            let v: serde_json::Value = resp.body_mut().read_json()?;
                            if status >= 400 {
                                bail!("batch refused with {status}: {v}");
                            }
                            let results = v["results"].as_array().cloned().unwrap_or_default();
                            let retry: Vec<serde_json::Value> = results
                                .iter()
                                .zip(body["txs"].as_array().cloned().unwrap_or_default())
                                .filter(|(r, _)| r["ok"] != serde_json::Value::Bool(true))
                                .map(|(r, tx)| {
                                    let e = r["error"].to_string();
                                    if e.contains("full") {
                                        Ok(tx)
                                    } else {
                                        Err(anyhow::anyhow!("refused: {e}"))
                                    }
                                })
                                .collect::<Result<_>>()?;
                            if retry.is_empty() {
                                break;
                            }
                            body = json!({ "txs": retry });
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        marks.push((*offset, t, chunk.len()));
                    }
                    Ok(marks)
                })
            })
            .collect();
        let mut at = vec![start; encoded.len()];
        for h in handles {
            for (offset, t, len) in h.join().map_err(|_| anyhow::anyhow!("client panicked"))?? {
                for slot in &mut at[offset..offset + len] {
                    *slot = t;
                }
            }
        }
        Ok(at)
    })?;
    while node.metrics().txs_committed.get() < w.txs.len() as u64 {
        pb.set_position(node.metrics().txs_committed.get());
        std::thread::sleep(Duration::from_millis(20));
    }
    pb.finish_and_clear();
    stop.store(true, Ordering::Relaxed);
    let heights = watcher.join().map_err(|_| anyhow::anyhow!("watcher panicked"))?;
    let r = finish_phase(&node, &w.txs, &submitted_at, &heights, start)?;
    let _ = stop_tx.send(());
    let _ = rt.block_on(server);
    drop(node);
    running.shutdown()?;
    Ok(r)
}

/// `civic bench tx`.
pub fn tx(args: TxBenchArgs, json_out: bool) -> Result<()> {
    if args.accounts == 0 || args.txs == 0 || args.batch == 0 {
        bail!("--txs, --accounts and --batch must be positive");
    }
    eprintln!("measuring this machine's Ed25519 verification rate…");
    let (s1, sn, b1, bn) = ed25519_limit();
    eprintln!("in-process phase: {} transactions from {} accounts…", args.txs, args.accounts);
    let inproc = in_process(&args, None)?;
    let paced = if args.paced_rate == 0 {
        None
    } else {
        eprintln!("paced phase: {} tx/s offered…", args.paced_rate);
        Some(in_process(&args, Some(args.paced_rate))?)
    };
    let http = if args.skip_http {
        None
    } else {
        eprintln!("HTTP phase…");
        Some(over_http(&args)?)
    };
    let t = threads();
    let phase = |r: &PhaseResult| {
        json!({ "committed_tps": r.tps.round(), "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "blocks": r.blocks, "seconds": r.seconds,
                "fraction_of_batched_verify_limit": r.tps / bn })
    };
    let report = json!({
        "machine": { "threads": t, "ed25519_verify_per_s": { "single_1_thread": s1.round(), "single_all_threads": sn.round(),
                     "batch64_1_thread": b1.round(), "batch64_all_threads": bn.round() } },
        "workload": { "store": format!("{:?}", args.store), "txs": args.txs, "accounts": args.accounts, "block_txs": args.block_txs, "block_interval_ms": args.block_interval_ms, "call": "notary.notarize" },
        "in_process": phase(&inproc),
        "in_process_paced": paced.as_ref().map(|r| { let mut v = phase(r); v["offered_tps"] = json!(args.paced_rate); v }),
        "http": http.as_ref().map(phase),
    });
    if json_out {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("Machine limit (Ed25519 verifications/s, {t} threads):");
    println!("  single, 1 thread   {:>9.0}", s1);
    println!("  single, {t} threads  {:>9.0}", sn);
    println!("  batch64, 1 thread  {:>9.0}", b1);
    println!("  batch64, {t} threads {:>9.0}   <- ceiling for signed transactions", bn);
    let line = |name: &str, r: &PhaseResult| {
        println!(
            "{name:<16} {:>8.0} committed tx/s ({:>4.1}% of the ceiling)  p50 {:>7.1} ms  p99 {:>7.1} ms  {} blocks in {:.1} s",
            r.tps,
            100.0 * r.tps / bn,
            r.p50_ms,
            r.p99_ms,
            r.blocks,
            r.seconds
        )
    };
    println!("Committed, durable ({:?}), {} txs from {} accounts:", args.store, args.txs, args.accounts);
    line("in-process", &inproc);
    if let Some(p) = &paced {
        line(&format!("paced {}/s", args.paced_rate), p);
    }
    if let Some(h) = &http {
        line("HTTP", h);
    }
    Ok(())
}

/// Options of `civic bench credentials`.
#[derive(clap::Args)]
pub struct CredentialBenchArgs {
    /// Distinct licenses issued on the fresh network; the threads cycle through their
    /// credentials.
    #[arg(long, default_value_t = 1_000)]
    pub licenses: usize,
    /// Seconds of verification (the Ed25519 measurement runs as long again).
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Verifying threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Embedded store of the benchmarked node.
    #[arg(long, value_enum, default_value = "fjall")]
    pub store: crate::run::Backend,
}

/// DESIGN.md §5: credential verifications per second a single node must sustain.
const CREDENTIAL_TARGET_PER_S: f64 = 10_000.0;

/// One in this many calls of a timed loop has its latency recorded.
const LATENCY_SAMPLE_EVERY: u64 = 8;

/// Licenses issued per submitted batch while preparing the bench.
const ISSUE_BATCH: usize = 500;

/// What [`run_for`] measured.
struct Timed {
    calls: u64,
    seconds: f64,
    /// Sampled latencies of one call, in microseconds, sorted.
    latencies_us: Vec<f64>,
    failures: u64,
    first_failure: Option<String>,
}

impl Timed {
    fn per_s(&self) -> f64 {
        self.calls as f64 / self.seconds
    }

    fn percentile_us(&self, p: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return 0.0;
        }
        self.latencies_us[((n as f64 * p) as usize).min(n - 1)]
    }
}

/// Calls `work(thread, i)` for i = 0, 1, … on each of `threads` threads until `duration` has
/// passed, and counts the calls and failures. Both benchmarks of a run go through this loop, so
/// their rates differ only by the work.
fn run_for(
    threads: usize,
    duration: Duration,
    work: &(dyn Fn(usize, u64) -> Result<(), String> + Sync),
) -> Timed {
    struct PerThread {
        calls: u64,
        latencies_us: Vec<f64>,
        failures: u64,
        first_failure: Option<String>,
    }
    let start = Instant::now();
    let deadline = start + duration;
    let per_thread: Vec<PerThread> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut r =
                        PerThread { calls: 0, latencies_us: Vec::new(), failures: 0, first_failure: None };
                    loop {
                        let t0 = Instant::now();
                        if t0 >= deadline {
                            break;
                        }
                        if let Err(e) = work(t, r.calls) {
                            r.failures += 1;
                            r.first_failure.get_or_insert(e);
                        }
                        if r.calls.is_multiple_of(LATENCY_SAMPLE_EVERY) {
                            r.latencies_us.push(t0.elapsed().as_secs_f64() * 1e6);
                        }
                        r.calls += 1;
                    }
                    r
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    // Every thread stops at its first call that starts after the deadline, so the wall time is
    // read after all have joined.
    let seconds = start.elapsed().as_secs_f64();
    let mut out = Timed { calls: 0, seconds, latencies_us: Vec::new(), failures: 0, first_failure: None };
    if per_thread.len() != threads {
        out.failures += 1;
        out.first_failure = Some("a benchmark thread panicked".into());
    }
    for r in per_thread {
        out.calls += r.calls;
        out.failures += r.failures;
        out.latencies_us.extend(r.latencies_us);
        if out.first_failure.is_none() {
            out.first_failure = r.first_failure;
        }
    }
    out.latencies_us.sort_by(f64::total_cmp);
    out
}

/// Single-signature Ed25519 verifications on `threads` threads for `duration`, over 64-byte
/// messages: the size eddsa-jcs-2022 signs (two SHA-256 digests), so this is the limit of the
/// one signature check inside each credential verification.
fn ed25519_single_rate(threads: usize, duration: Duration) -> Timed {
    let keys: Vec<SecretKey> = (0..64u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
    let items: Vec<(PublicKey, [u8; 64], Signature)> = (0..4096usize)
        .map(|i| {
            let mut msg = [0u8; 64];
            msg[..32].copy_from_slice(&sha256(&i.to_le_bytes()).0);
            msg[32..].copy_from_slice(&sha256(&(!i).to_le_bytes()).0);
            let k = &keys[i % keys.len()];
            (k.public_key(), msg, k.sign(&msg))
        })
        .collect();
    let n = items.len();
    run_for(threads, duration, &|t, i| {
        let (k, m, s) = &items[(t * n / threads + i as usize) % n];
        k.verify(m, s).map_err(|_| "an Ed25519 benchmark signature did not verify".to_owned())
    })
}

/// A fresh dev network in a temporary directory, producing blocks, with the demo activity
/// committed.
struct DevBench {
    dev: civic_node::devnet::DevNet,
    running: Running,
    rt: tokio::runtime::Runtime,
    /// Dropped last: the node's files.
    _dir: tempfile::TempDir,
}

fn fresh_dev_network(store: crate::run::Backend) -> Result<DevBench> {
    eprintln!("starting a fresh dev network and committing the demo activity…");
    let dir = tempfile::tempdir()?;
    let dev = civic_node::devnet::open_or_create(dir.path(), now_ms())?;
    let mut config = NodeConfig::new(dir.path().to_path_buf());
    config.min_block_interval = Duration::from_millis(10);
    let running = Running::start(dir.path(), store, &dev.genesis, dev.validator.clone(), config)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let (stages, private) = dev.demo_stages()?;
    running.node.store().private_put(private).context("storing the demo resident's attribute values")?;
    for stage in stages {
        // The demo includes one deliberately rejected transaction, so outcomes are not checked.
        rt.block_on(crate::run::submit_and_wait(&running.node, stage))
            .context("submitting the demo activity")?;
    }
    Ok(DevBench { dev, running, rt, _dir: dir })
}

/// Submits `txs`, waits for their commits, and fails unless every one was applied.
fn commit_all(rt: &tokio::runtime::Runtime, node: &Node, txs: Vec<SignedTx>) -> Result<()> {
    for outcome in rt.block_on(crate::run::submit_and_wait(node, txs))? {
        match outcome {
            civic_node::WaitOutcome::Committed(c) => {
                if let civic_ledger::Outcome::Rejected { code, reason } = c.receipt.outcome {
                    bail!("a benchmark transaction was rejected ({code}): {reason}");
                }
            }
            civic_node::WaitOutcome::Dropped(why) => bail!("a benchmark transaction was dropped: {why}"),
        }
    }
    Ok(())
}

/// The `n`th benchmark license (from 0) issued by `justice/issuer` with `nonce`: a distinct
/// holder and license number, claims valid under the lawyer's practice schema.
fn bench_issue(dev: &civic_node::devnet::DevNet, n: usize, nonce: u64) -> Result<SignedTx> {
    use civic_licenses::LicenseCall;
    let issuer = AccountId::new("justice/issuer")?;
    let key = dev.keys.get(&issuer).context("the dev network has no justice/issuer key")?;
    let start = dev.genesis.genesis_time;
    let valid_until = UnixMillis::new(start.get() + 2 * 365 * 24 * 3600 * 1000);
    let day = |t: UnixMillis| civic_licenses::credential::rfc3339(t).chars().take(10).collect::<String>();
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
    seed[31] = 0xc7;
    let holder = civic_identity::Did::key(SecretKey::from_seed(&seed).public_key()).to_string();
    let areas = ["civil", "criminal", "administrative", "commercial", "family", "general"];
    let claims = [
        ("holder_name", format!("Bench Lawyer {n}")),
        ("national_id_hash", sha256(format!("bench-national-id-{n}").as_bytes()).to_hex()),
        ("license_number", format!("BENCH{n:08}")),
        ("law_firm", format!("Benchmark Law Firm {}", n % 97)),
        ("practice_area", areas[n % areas.len()].to_owned()),
        ("issue_date", day(start)),
        ("valid_until", day(valid_until)),
    ];
    let call = LicenseCall::Issue {
        license_id: format!("BENCH-{n:06}"),
        type_id: civic_node::devnet::LAWYER_LICENSE.into(),
        holder,
        claims: claims.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        valid_from: start,
        valid_until,
    };
    Ok(Transaction {
        chain_id: dev.genesis.chain_id.clone(),
        signer: issuer,
        nonce: Nonce::new(nonce),
        call: Call::new(&call),
    }
    .sign(key))
}

/// The signed credential of committed license `license_id`, as the node's API exports it.
fn signed_credential(node: &Node, issuer_key: &SecretKey, license_id: &str) -> Result<serde_json::Value> {
    use civic_licenses::{License, LicenseType, credential, keys};
    let license = node
        .state_value::<License>(&keys::license(license_id))?
        .with_context(|| format!("license {license_id} is not on the ledger"))?;
    let license_type = node
        .state_value::<LicenseType>(&keys::license_type(&license.type_id))?
        .with_context(|| format!("license type {} is not on the ledger", license.type_id))?;
    let unsigned = credential::license_credential(&license, &license_type, "http://127.0.0.1:8080");
    Ok(credential::sign_credential(&unsigned, issuer_key, "did:civic:justice#issuer", license.updated_at)?)
}

/// `civic bench credentials`.
pub fn credentials(args: CredentialBenchArgs, json_out: bool) -> Result<()> {
    use civic_licenses::verify::{CredentialStatus, verify};
    use civic_node::licenses::NodeLedger;
    if args.licenses == 0 || args.seconds == 0 || args.threads == Some(0) {
        bail!("--licenses, --seconds and --threads must be positive");
    }
    let t = args.threads.unwrap_or_else(threads);
    let duration = Duration::from_secs(args.seconds);

    let DevBench { dev, running, rt, _dir } = fresh_dev_network(args.store)?;
    let node = running.node.clone();

    let issuer = AccountId::new("justice/issuer")?;
    let issuer_key = dev.keys.get(&issuer).context("the dev network has no justice/issuer key")?.clone();
    let first_nonce = node.next_nonce(&issuer)?.get();
    let pb = bar(args.licenses, "issuing licenses");
    for from in (0..args.licenses).step_by(ISSUE_BATCH) {
        let to = (from + ISSUE_BATCH).min(args.licenses);
        let txs =
            (from..to).map(|n| bench_issue(&dev, n, first_nonce + n as u64)).collect::<Result<Vec<_>>>()?;
        commit_all(&rt, &node, txs)?;
        pb.set_position(to as u64);
    }
    pb.finish_and_clear();

    let credentials: Vec<serde_json::Value> = (0..args.licenses)
        .map(|n| signed_credential(&node, &issuer_key, &format!("BENCH-{n:06}")))
        .collect::<Result<_>>()?;
    let now = now_ms();
    let ledger = NodeLedger(&node);
    // Sanity: the suspended demo license must verify as suspended, or the bench is not running
    // the status checks it claims to.
    let suspended = verify(
        &signed_credential(&node, &issuer_key, &civic_node::devnet::demo_license_id(3))?,
        now,
        &ledger,
    );
    if suspended.status != CredentialStatus::Suspended {
        bail!("the suspended demo license verified as {} instead of suspended", suspended.status.as_str());
    }

    eprintln!("verifying {} credentials on {t} threads for {} s…", credentials.len(), args.seconds);
    let n = credentials.len();
    let verified = run_for(t, duration, &|thread, i| {
        let v = verify(&credentials[(thread * n / t + i as usize) % n], now, &ledger);
        if v.is_valid() { Ok(()) } else { Err(v.reason.unwrap_or_else(|| v.status.as_str().to_owned())) }
    });
    if verified.failures > 0 {
        bail!(
            "{} of {} verifications failed (first: {}); a benchmark of failing verifications measures nothing",
            verified.failures,
            verified.calls,
            verified.first_failure.as_deref().unwrap_or("unknown")
        );
    }
    eprintln!("measuring this machine's Ed25519 single-signature verification rate on {t} threads…");
    let ed = ed25519_single_rate(t, duration);
    if ed.failures > 0 {
        bail!("{}", ed.first_failure.as_deref().unwrap_or("an Ed25519 benchmark verification failed"));
    }
    drop(node);
    running.shutdown()?;

    let rate = verified.per_s();
    let ratio = rate / ed.per_s();
    let met = rate >= CREDENTIAL_TARGET_PER_S;
    if json_out {
        let report = json!({
            "machine": { "threads": t, "ed25519_single_verify_per_s": ed.per_s().round(),
                         "ed25519_single_verify_per_thread_per_s": (ed.per_s() / t as f64).round() },
            "workload": { "store": format!("{:?}", args.store), "licenses": args.licenses, "seconds": args.seconds,
                          "check": "civic_licenses::verify::verify against committed node state" },
            "verifications": verified.calls,
            "seconds": verified.seconds,
            "verifications_per_s": rate.round(),
            "per_thread_per_s": (rate / t as f64).round(),
            "p50_us": verified.percentile_us(0.50),
            "p99_us": verified.percentile_us(0.99),
            "latency_sampled_every": LATENCY_SAMPLE_EVERY,
            "fraction_of_ed25519_limit": ratio,
            "all_valid": verified.failures == 0,
            "suspended_demo_license_status": suspended.status.as_str(),
            "target_per_s": CREDENTIAL_TARGET_PER_S,
            "target_met": met,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "Credential verification ({:?}, {} licenses, {} s, all {} valid; suspended demo license reports {}):",
        args.store,
        args.licenses,
        args.seconds,
        verified.calls,
        suspended.status.as_str()
    );
    println!(
        "  full W3C verifications   {:>9.0}/s on {t} threads ({:.0}/s per thread)  p50 {:.1} µs  p99 {:.1} µs",
        rate,
        rate / t as f64,
        verified.percentile_us(0.50),
        verified.percentile_us(0.99)
    );
    println!(
        "  Ed25519 single verify    {:>9.0}/s on {t} threads ({:.0}/s per thread)   <- ceiling: one signature per credential",
        ed.per_s(),
        ed.per_s() / t as f64
    );
    println!("  credential / Ed25519     {:>9.2}", ratio);
    println!(
        "  target (DESIGN.md §5)    {:>9.0}/s  {}",
        CREDENTIAL_TARGET_PER_S,
        if met { "met" } else { "NOT met" }
    );
    Ok(())
}
