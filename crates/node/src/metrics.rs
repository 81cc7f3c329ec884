//! Prometheus metrics of the node, in the text exposition format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of an API request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabels {
    /// HTTP method.
    pub method: String,
    /// Matched route template, e.g. `/v1/txs/{hash}`.
    pub route: String,
    /// Status code.
    pub status: u16,
}

type HistogramCtor = fn() -> Histogram;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 18))
}

/// The device gateway's counters (see [`crate::supervision`]).
#[derive(Clone, Debug, Default)]
pub struct GatewayMetrics {
    /// Device reports accepted and durably stored (positions, heartbeats, alarms).
    pub reports: Counter,
    /// Positions stored.
    pub positions: Counter,
    /// Reports refused: unknown, unbound or wrong-protocol device, or overload.
    pub refused: Counter,
    /// Malformed messages seen by the listeners.
    pub malformed: Counter,
    /// Alerts submitted to the chain.
    pub alerts: Counter,
    /// Position batches whose anchors were submitted to the chain.
    pub anchors: Counter,
}

/// Every metric the node exports.
pub struct Metrics {
    registry: Registry,
    /// Latest committed height.
    pub height: Gauge,
    /// Transactions committed since start.
    pub txs_committed: Counter,
    /// Transactions rejected by execution since start (still committed, with a reason).
    pub txs_rejected: Counter,
    /// Blocks committed since start.
    pub blocks_committed: Counter,
    /// Pending transactions.
    pub mempool_size: Gauge,
    /// Time between consecutive blocks.
    pub block_interval_seconds: Histogram,
    /// Time to build, execute and durably commit a block.
    pub block_commit_seconds: Histogram,
    /// Transactions per block.
    pub block_txs: Histogram,
    /// API request latency by route and status.
    pub api_request_seconds: Family<ApiLabels, Histogram, HistogramCtor>,
    /// The device gateway.
    pub gateway: GatewayMetrics,
}

impl Metrics {
    /// Registers all metrics.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("civic");
        let m = Metrics {
            height: Gauge::default(),
            txs_committed: Counter::default(),
            txs_rejected: Counter::default(),
            blocks_committed: Counter::default(),
            mempool_size: Gauge::default(),
            block_interval_seconds: latency_histogram(),
            block_commit_seconds: latency_histogram(),
            block_txs: Histogram::new(exponential_buckets(1.0, 2.0, 17)),
            api_request_seconds: Family::new_with_constructor(latency_histogram as HistogramCtor),
            gateway: GatewayMetrics::default(),
            registry: Registry::default(),
        };
        registry.register("height", "Latest committed block height", m.height.clone());
        registry.register("txs_committed", "Transactions committed", m.txs_committed.clone());
        registry.register(
            "txs_rejected",
            "Committed transactions whose execution was rejected",
            m.txs_rejected.clone(),
        );
        registry.register("blocks_committed", "Blocks committed", m.blocks_committed.clone());
        registry.register("mempool_size", "Pending transactions in the mempool", m.mempool_size.clone());
        registry.register(
            "block_interval_seconds",
            "Time between consecutive blocks",
            m.block_interval_seconds.clone(),
        );
        registry.register(
            "block_commit_seconds",
            "Time to build, execute and durably commit a block",
            m.block_commit_seconds.clone(),
        );
        registry.register("block_txs", "Transactions per block", m.block_txs.clone());
        registry.register("api_request_seconds", "REST API request latency", m.api_request_seconds.clone());
        let g = &m.gateway;
        for (name, help, counter) in [
            ("gateway_reports", "Device reports accepted and durably stored", &g.reports),
            ("gateway_positions", "Device positions stored", &g.positions),
            ("gateway_refused", "Device reports refused (unknown or unbound device, overload)", &g.refused),
            ("gateway_malformed", "Malformed device messages", &g.malformed),
            ("gateway_alerts", "Supervision alerts submitted by the gateway", &g.alerts),
            ("gateway_anchors", "Position batches anchored by the gateway", &g.anchors),
        ] {
            registry.register(name, help, counter.clone());
        }
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
