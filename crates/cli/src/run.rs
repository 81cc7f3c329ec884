//! Running a node: `civic dev`, `civic node`, and the offline `civic verify-state`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use civic_consensus::{Config, SingleValidator};
use civic_ledger::{Genesis, SignedTx};
use civic_node::keyfile::KeyFile;
use civic_node::service::ServiceKeys;
use civic_node::supervision::{Supervisor, SupervisorConfig};
use civic_node::{Node, NodeConfig, WaitOutcome, devnet, now_ms};
use civic_store::{FjallStore, RedbStore, Store};
use civic_types::SecretKey;

/// Options of `civic dev`.
pub struct DevOptions {
    pub data_dir: PathBuf,
    pub store: Backend,
    pub http: SocketAddr,
    pub demo: bool,
    pub block_interval_ms: u64,
    pub public_verify_rate: u32,
    pub gateway: GatewayOptions,
}

/// The dev node acts as the justice bureau: it signs the bureau's credentials and status lists
/// with `justice/issuer`, records verifications as `justice/service`, and runs the bureau's
/// device gateway as `justice/gateway` (anchors and alerts).
const DEV_SERVICE_ACCOUNTS: [&str; 3] = ["justice/issuer", "justice/service", "justice/gateway"];

/// The device gateway's listeners and settings (`civic dev` and `civic node`).
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// OsmAnd HTTP listener.
    pub osmand: SocketAddr,
    /// Watch-protocol TCP listener.
    pub watch: SocketAddr,
    /// Consecutive violating fixes before a zone alert.
    pub consecutive_fixes: u32,
    /// Days positions are kept.
    pub retention_days: u32,
    /// Seconds between timer checks (gone dark, offline, escalation).
    pub tick_secs: u64,
}

struct Gateway {
    supervisor: Arc<Supervisor>,
    osmand: tokio::net::TcpListener,
    watch: tokio::net::TcpListener,
}

fn start_gateway(
    rt: &tokio::runtime::Runtime,
    node: &Arc<Node>,
    service: &Arc<ServiceKeys>,
    opts: &GatewayOptions,
) -> Result<Gateway> {
    let config = SupervisorConfig {
        consecutive_fixes: opts.consecutive_fixes.max(1),
        retention: Duration::from_secs(u64::from(opts.retention_days.max(1)) * 86_400),
        tick_interval: Duration::from_secs(opts.tick_secs.max(1)),
        ..SupervisorConfig::default()
    };
    let supervisor = Supervisor::start(node.clone(), service.clone(), config)?;
    let osmand = rt.block_on(async { civic_gateway::bind(opts.osmand) }).with_context(|| {
        format!("cannot listen on {} for OsmAnd devices; choose another --osmand address", opts.osmand)
    })?;
    let watch = rt.block_on(async { civic_gateway::bind(opts.watch) }).with_context(|| {
        format!("cannot listen on {} for watch devices; choose another --watch address", opts.watch)
    })?;
    println!("  OsmAnd gateway  http://{}/  (Traccar Client)", osmand.local_addr()?);
    println!("  watch gateway   tcp://{}  (wristbands)", watch.local_addr()?);
    Ok(Gateway { supervisor, osmand, watch })
}

/// Options of `civic node`.
pub struct NodeOptions {
    pub data_dir: PathBuf,
    pub store: Backend,
    pub genesis: PathBuf,
    pub validator_key: PathBuf,
    pub http: SocketAddr,
    pub block_interval_ms: u64,
    pub service_keys: Vec<PathBuf>,
    pub public_url: Option<String>,
    pub public_verify_rate: u32,
    pub gateway: GatewayOptions,
}

/// Which embedded store a node keeps its chain in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// fjall (LSM tree): commit time stays flat as the chain grows. The default.
    Fjall,
    /// redb (copy-on-write B-tree): faster reads, page checksums; commits slow down as the
    /// chain grows under random-key writes.
    Redb,
}

impl Backend {
    fn file_name(self) -> &'static str {
        match self {
            Backend::Fjall => "ledger.fjall",
            Backend::Redb => "ledger.redb",
        }
    }

    /// The backend of an existing data directory, if it has a chain.
    pub fn detect(data_dir: &Path) -> Option<Backend> {
        [Backend::Fjall, Backend::Redb].into_iter().find(|b| data_dir.join(b.file_name()).exists())
    }
}

/// Opens the chain store in `data_dir`: the backend already there, else `preferred`.
pub fn open_store(data_dir: &Path, preferred: Backend) -> Result<Arc<dyn Store>> {
    let backend = Backend::detect(data_dir).unwrap_or(preferred);
    if backend != preferred && Backend::detect(data_dir).is_some() {
        tracing::info!(?backend, "the data directory already holds a chain in this store; using it");
    }
    let path = data_dir.join(backend.file_name());
    let what = || format!("opening the ledger at {}", path.display());
    Ok(match backend {
        Backend::Fjall => Arc::new(FjallStore::open(&path).with_context(what)?),
        Backend::Redb => Arc::new(RedbStore::open(&path).with_context(what)?),
    })
}

/// A node with its block production thread.
pub struct Running {
    pub node: Arc<Node>,
    stop: Arc<AtomicBool>,
    engine: Option<std::thread::JoinHandle<Result<(), civic_consensus::AppError>>>,
}

impl Running {
    /// Opens the chain in `data_dir` and starts producing blocks.
    pub fn start(
        data_dir: &Path,
        backend: Backend,
        genesis: &Genesis,
        validator: SecretKey,
        mut config: NodeConfig,
    ) -> Result<Running> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let store = open_store(data_dir, backend)?;
        config.data_dir = data_dir.to_path_buf();
        let executor = civic_node::runtime::executor(genesis.chain_id.clone());
        let node = Arc::new(Node::open(store, genesis, executor, validator.public_key(), config.clone())?);
        let stop = Arc::new(AtomicBool::new(false));
        let engine = SingleValidator::new(
            node.clone(),
            validator,
            Config {
                empty_block_interval: config.empty_block_interval,
                min_block_interval: config.min_block_interval,
            },
            stop.clone(),
        );
        let handle = std::thread::Builder::new().name("block-producer".into()).spawn(move || engine.run())?;
        Ok(Running { node, stop, engine: Some(handle) })
    }

    /// Whether block production has stopped on its own (a fatal error).
    pub fn engine_finished(&self) -> bool {
        self.engine.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Stops block production and waits for the current block to finish.
    pub fn shutdown(mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.engine.take() {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => bail!("block production failed: {e}"),
                Err(_) => bail!("block production thread panicked"),
            }
        }
        Ok(())
    }
}

/// Submits `txs` and waits until each is committed (or dropped).
pub async fn submit_and_wait(node: &Node, txs: Vec<SignedTx>) -> Result<Vec<WaitOutcome>> {
    let mut waits = Vec::new();
    for tx in txs {
        let hash = tx.hash();
        let rx = node.watch(hash);
        if let Err(e) = node.submit(tx) {
            node.unwatch(&hash);
            bail!("submitting {hash}: {e}");
        }
        waits.push(rx);
    }
    let mut out = Vec::new();
    for rx in waits {
        out.push(
            tokio::time::timeout(Duration::from_secs(60), rx)
                .await
                .context("timed out waiting for a commit")??,
        );
    }
    Ok(out)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Serves the API and the device gateway until Ctrl-C / SIGTERM or until block production
/// dies, then stops cleanly.
fn serve_until_stopped(
    rt: &tokio::runtime::Runtime,
    running: Running,
    listener: tokio::net::TcpListener,
    mut options: civic_api::ApiOptions,
    gateway: Gateway,
) -> Result<()> {
    let node = running.node.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    options.supervisor = Some(gateway.supervisor.clone());
    let limits = civic_gateway::Limits::default();
    let osmand =
        rt.spawn(civic_gateway::osmand::serve(gateway.osmand, gateway.supervisor.clone(), stopped()));
    let watch = rt.spawn(civic_gateway::watch::serve(gateway.watch, gateway.supervisor, limits, stopped()));
    let server = rt.spawn(civic_api::serve(listener, node, options, stopped()));
    let engine_died = rt.block_on(async {
        tokio::select! {
            _ = shutdown_signal() => false,
            _ = async {
                while !running.engine_finished() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            } => true,
        }
    });
    eprintln!("stopping…");
    let _ = stop_tx.send(true);
    let _ = rt.block_on(server);
    let _ = rt.block_on(osmand);
    let _ = rt.block_on(watch);
    running.shutdown()?;
    if engine_died {
        bail!("block production stopped unexpectedly; see the log above");
    }
    Ok(())
}

/// The dev network's service accounts ([`DEV_SERVICE_ACCOUNTS`]) with their keys.
pub fn dev_service_keys(dev: &devnet::DevNet) -> Arc<ServiceKeys> {
    let service = dev
        .keys
        .iter()
        .filter(|(id, _)| DEV_SERVICE_ACCOUNTS.contains(&id.as_str()))
        .map(|(id, k)| (id.clone(), k.clone()));
    Arc::new(ServiceKeys::new(service.collect()))
}

/// `civic dev`.
pub fn dev(opts: DevOptions) -> Result<()> {
    let dev = devnet::open_or_create(&opts.data_dir, now_ms())?;
    let mut config = NodeConfig::new(opts.data_dir.clone());
    config.min_block_interval = Duration::from_millis(opts.block_interval_ms);
    let running = Running::start(&opts.data_dir, opts.store, &dev.genesis, dev.validator.clone(), config)?;
    let fresh = running.node.head().height.get() == 0;
    let rt = runtime()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(opts.http))
        .with_context(|| format!("cannot listen on {}; choose another --http address", opts.http))?;
    let addr = listener.local_addr()?;
    let dir = std::fs::canonicalize(&opts.data_dir).unwrap_or(opts.data_dir.clone());
    println!("Civic Ledger dev network — chain {}", dev.genesis.chain_id);
    println!("  data directory  {}", dir.display());
    println!("  account keys    {}", dir.join("keys").display());
    println!("  REST API        http://{addr}/v1/status");
    println!("  OpenAPI         http://{addr}/openapi.json");
    println!("  events (SSE)    http://{addr}/v1/events");
    println!("  metrics         http://{addr}/metrics");
    println!(
        "  try             civic --node http://{addr} --key {} notarize README.md",
        dir.join("keys").join("justice.admin.json").display()
    );
    if fresh && opts.demo {
        let (stages, private) = dev.demo_stages()?;
        running.node.store().private_put(private).context("storing the demo resident's attribute values")?;
        let node = running.node.clone();
        rt.block_on(async {
            for stage in stages {
                submit_and_wait(&node, stage).await?;
            }
            anyhow::Ok(())
        })
        .context("submitting the demo activity")?;
        println!("  demo activity   committed (height {})", running.node.head().height);
    } else {
        println!("  reopened chain  at height {}", running.node.head().height);
    }
    let service = dev_service_keys(&dev);
    let options = civic_api::ApiOptions {
        public_url: format!("http://{addr}"),
        service: service.clone(),
        public_verifications_per_s: opts.public_verify_rate,
        ..civic_api::ApiOptions::default()
    };
    println!(
        "  licenses        http://{addr}/v1/licenses  (public page: http://{addr}/verify/{})",
        devnet::demo_license_id(1)
    );
    println!("  supervision     http://{addr}/v1/supervision/cases");
    let gateway = start_gateway(&rt, &running.node, &service, &opts.gateway)?;
    println!("listening on http://{addr}");
    serve_until_stopped(&rt, running, listener, options, gateway)
}

/// `civic node`.
pub fn node(opts: NodeOptions) -> Result<()> {
    let text = std::fs::read_to_string(&opts.genesis)
        .with_context(|| format!("reading {}", opts.genesis.display()))?;
    let genesis: Genesis = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid genesis file", opts.genesis.display()))?;
    let validator = KeyFile::read(&opts.validator_key)?.secret().map_err(anyhow::Error::msg)?;
    if !genesis.validators.iter().any(|v| v.public_key == validator.public_key()) {
        bail!(
            "the key in {} is not a validator of this genesis; the single-validator engine needs the validator's key",
            opts.validator_key.display()
        );
    }
    if genesis.validators.len() > 1 {
        bail!(
            "this genesis has {} validators; multi-validator consensus is not available yet",
            genesis.validators.len()
        );
    }
    let mut config = NodeConfig::new(opts.data_dir.clone());
    config.min_block_interval = Duration::from_millis(opts.block_interval_ms);
    let running = Running::start(&opts.data_dir, opts.store, &genesis, validator, config)?;
    let rt = runtime()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(opts.http))
        .with_context(|| format!("cannot listen on {}; choose another --http address", opts.http))?;
    let addr = listener.local_addr()?;
    let service = Arc::new(ServiceKeys::load(&opts.service_keys)?);
    for account in service.accounts() {
        println!("  service key     {account}");
    }
    let options = civic_api::ApiOptions {
        public_url: opts
            .public_url
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned(),
        service: service.clone(),
        public_verifications_per_s: opts.public_verify_rate,
        ..civic_api::ApiOptions::default()
    };
    let gateway = start_gateway(&rt, &running.node, &service, &opts.gateway)?;
    println!("listening on http://{addr}");
    serve_until_stopped(&rt, running, listener, options, gateway)
}

/// `civic verify-state`.
pub fn verify_state(data_dir: &Path, json: bool) -> Result<()> {
    let Some(backend) = Backend::detect(data_dir) else {
        bail!(
            "{} holds no chain (no ledger.fjall or ledger.redb); pass the node's --data-dir",
            data_dir.display()
        );
    };
    let store = open_store(data_dir, backend)?;
    let genesis_bytes = store.meta("genesis")?.context("the store has no genesis")?;
    let genesis: Genesis = serde_json::from_slice(&genesis_bytes)?;
    let executor = civic_node::runtime::executor(genesis.chain_id.clone());
    let validator = genesis.validators[0].public_key;
    let node = Node::open(store, &genesis, executor, validator, NodeConfig::new(data_dir.to_path_buf()))?;
    let (computed, stored) = node.verify_state_root()?;
    let height = node.head().height;
    if json {
        println!(
            "{}",
            serde_json::json!({"height": height, "computed_state_root": computed, "header_state_root": stored, "ok": computed == stored})
        );
    } else {
        println!("height {height}: recomputed state root {computed}, header says {stored}");
    }
    if computed != stored {
        bail!("state root mismatch: the stored state does not match the chain");
    }
    if !json {
        println!("ok");
    }
    Ok(())
}
