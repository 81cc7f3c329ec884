//! `civic bench tx`: committed transactions per second and submit-to-commit latency of a fresh
//! single-node network (real redb storage, real signatures, real block production), driven
//! in-process and over HTTP, reported beside this machine's Ed25519 verification limit measured
//! in the same run.

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
use civic_node::{Node, NodeConfig};
use civic_types::{
    AccountId, ChainId, Nonce, OrgId, PublicKey, Role, SecretKey, Signature, UnixMillis, sha256,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::run::Running;

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
