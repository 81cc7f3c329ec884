//! `civic`: run a Civic Ledger network and talk to it.
//!
//! This binary only wires libraries together: node, API, consensus engine, and an HTTP client
//! for the commands that talk to a running node.

#![allow(clippy::disallowed_methods)] // the binary is the shell: it owns the clock

mod bench;
mod client;
mod commands;
mod license;
mod proofcheck;
mod run;
mod supervision;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Civic Ledger: a permissioned blockchain for public services.
#[derive(Parser)]
#[command(name = "civic", version, propagate_version = true)]
struct Cli {
    /// The node to talk to.
    #[arg(long, global = true, env = "CIVIC_NODE", default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Key file to sign with (from `civic keys new` or a dev network's keys/ directory).
    #[arg(long, global = true, env = "CIVIC_KEY")]
    key: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a complete single-node network with demo departments, keys and activity.
    ///
    /// Creates the data directory on first start (genesis, one key file per account, the
    /// chain), submits demo transactions, serves the REST API, and reopens the same chain on
    /// later starts. Stop with Ctrl-C.
    Dev(DevArgs),
    /// Run a node of a network from a genesis file and a validator key.
    Node(NodeArgs),
    /// Create and inspect key files.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Submit and inspect transactions.
    #[command(subcommand)]
    Tx(TxCmd),
    /// Inspect blocks.
    #[command(subcommand)]
    Block(BlockCmd),
    /// Show the node's chain, height and validators.
    Status,
    /// Governance: list proposals, vote.
    #[command(subcommand)]
    Gov(GovCmd),
    /// Anchor a document's SHA-256 digest on chain (the document stays with you).
    Notarize {
        /// The document.
        file: PathBuf,
        /// A short description (no personal data).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Identity: resident keys (did:key), attestation, consent, consent-gated reads, "who read my
    /// data", remote login, DID resolution.
    #[command(subcommand)]
    Identity(IdentityCmd),
    /// Licenses: the trusted-issuer registry, the lifecycle (issue, renew, suspend, reinstate,
    /// revoke), views, W3C credential export and verification.
    #[command(subcommand)]
    License(LicenseCmd),
    /// Supervision (community corrections): cases, wristbands, zones and curfews, alerts,
    /// positions with anchoring proofs, daily summaries, and a track simulator.
    #[command(subcommand)]
    Supervision(SupervisionCmd),
    /// Check proofs offline.
    #[command(subcommand)]
    Proof(ProofCmd),
    /// Recompute the state root of a stopped node's data directory and compare it with the
    /// latest block header.
    VerifyState {
        /// The node's data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Measure throughput and latency on this machine.
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Args)]
struct DevArgs {
    /// Data directory (created on first start, reopened afterwards).
    #[arg(long, default_value = "civic-dev-data")]
    data_dir: PathBuf,
    /// Embedded store for a new data directory (an existing one keeps its own).
    #[arg(long, value_enum, default_value = "fjall")]
    store: run::Backend,
    /// Address of the REST API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Do not submit the demo activity on first start.
    #[arg(long)]
    no_demo: bool,
    /// Milliseconds between blocks while transactions arrive.
    #[arg(long, default_value_t = 100)]
    block_interval_ms: u64,
    /// Anonymous license verifications per second the API answers on average (the public page
    /// and unsigned `POST /v1/verify`; each is recorded on chain); bursts of four times as many
    /// pass, beyond that callers get 429 with Retry-After.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    public_verify_rate: u32,
    #[command(flatten)]
    gateway: GatewayArgs,
}

/// The device gateway (supervision wristbands).
#[derive(Args)]
struct GatewayArgs {
    /// Address of the OsmAnd HTTP listener (Traccar Client and compatible apps).
    #[arg(long, default_value = "0.0.0.0:5055")]
    osmand: SocketAddr,
    /// Address of the watch-protocol TCP listener (wristbands).
    #[arg(long, default_value = "0.0.0.0:5093")]
    watch: SocketAddr,
    /// Consecutive violating fixes before a zone or curfew alert (against GPS drift).
    #[arg(long, default_value_t = 3)]
    consecutive_fixes: u32,
    /// Days stored positions are kept.
    #[arg(long, default_value_t = 365)]
    retention_days: u32,
    /// Seconds between timer checks (gone dark, offline, escalation, retention).
    #[arg(long, default_value_t = 5)]
    tick_secs: u64,
}

impl GatewayArgs {
    fn options(self) -> run::GatewayOptions {
        run::GatewayOptions {
            osmand: self.osmand,
            watch: self.watch,
            consecutive_fixes: self.consecutive_fixes,
            retention_days: self.retention_days,
            tick_secs: self.tick_secs,
        }
    }
}

#[derive(Args)]
struct NodeArgs {
    /// Data directory.
    #[arg(long)]
    data_dir: PathBuf,
    /// Embedded store for a new data directory (an existing one keeps its own).
    #[arg(long, value_enum, default_value = "fjall")]
    store: run::Backend,
    /// Genesis file (JSON).
    #[arg(long)]
    genesis: PathBuf,
    /// This node's validator key file.
    #[arg(long)]
    validator_key: PathBuf,
    /// Address of the REST API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Milliseconds between blocks while transactions arrive.
    #[arg(long, default_value_t = 100)]
    block_interval_ms: u64,
    /// Key file of an account this node acts as (repeatable): an `issuer` account signs its
    /// organization's credentials and status lists; a `verifier` account records the
    /// verifications the node performs.
    #[arg(long = "service-key", value_name = "FILE")]
    service_keys: Vec<PathBuf>,
    /// The URL clients reach this node at, used in credential and status list ids
    /// (default: http://<--http address>).
    #[arg(long)]
    public_url: Option<String>,
    /// Anonymous license verifications per second the API answers on average (the public page
    /// and unsigned `POST /v1/verify`; each is recorded on chain); bursts of four times as many
    /// pass, beyond that callers get 429 with Retry-After.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    public_verify_rate: u32,
    #[command(flatten)]
    gateway: GatewayArgs,
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Generate a new Ed25519 key and write it to a key file (mode 0600).
    New {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
        /// The account this key is for, e.g. justice/clerk.
        #[arg(long)]
        account: Option<String>,
    },
    /// Show a key file's account and public key (never the secret).
    Show {
        /// The key file.
        file: PathBuf,
    },
    /// List the key files in a directory.
    List {
        /// Directory (default: ./civic-dev-data/keys).
        #[arg(default_value = "civic-dev-data/keys")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum TxCmd {
    /// Sign a call with --key and submit it.
    ///
    /// Example: civic --key k.json tx submit notary '{"notarize":{"digest":"<64 hex>","label":"x"}}'
    Submit {
        /// Module name: membership, notary, ...
        module: String,
        /// The call as JSON.
        call: String,
        /// Return at once instead of waiting for the commit.
        #[arg(long)]
        no_wait: bool,
    },
    /// Show a committed transaction and its receipt.
    Show {
        /// Transaction hash (hex).
        hash: String,
    },
}

#[derive(Subcommand)]
enum BlockCmd {
    /// Show a block (default: the latest).
    Show {
        /// Height, or `latest`.
        #[arg(default_value = "latest")]
        height: String,
    },
}

#[derive(Subcommand)]
enum GovCmd {
    /// List governance proposals with their status and votes.
    Proposals,
    /// Vote for your organization on a proposal (needs an admin key).
    Vote {
        /// Proposal id.
        id: u64,
        /// `yes` or `no`.
        #[arg(value_parser = ["yes", "no"])]
        decision: String,
    },
}

#[derive(Subcommand)]
enum SupervisionCmd {
    /// Cases: open, close, show.
    #[command(subcommand)]
    Case(CaseCmd),
    /// List cases with their zones and devices.
    Cases,
    /// Devices: register, bind, unbind.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// List devices with what the gateway last heard.
    Devices,
    /// Zones: set (a new version) or remove.
    #[command(subcommand)]
    Zone(ZoneCmd),
    /// List alerts.
    Alerts {
        /// Only this case.
        #[arg(long)]
        case: Option<String>,
        /// open, acknowledged or resolved.
        #[arg(long)]
        state: Option<String>,
    },
    /// Acknowledge an alert (officer, --key).
    Ack {
        /// Alert id `<case>:<n>`.
        alert: String,
        /// What you are doing about it.
        #[arg(long)]
        note: String,
    },
    /// Resolve an alert with a note (officer, --key).
    Resolve {
        /// Alert id `<case>:<n>`.
        alert: String,
        /// How it was resolved.
        #[arg(long)]
        note: String,
    },
    /// A device's stored positions (signed with --key).
    Positions {
        /// Device protocol id.
        device: String,
        /// From (YYYY-MM-DD or RFC 3339; default 24 h ago).
        #[arg(long)]
        from: Option<String>,
        /// To (default now).
        #[arg(long)]
        to: Option<String>,
    },
    /// Check that a stored position is untampered: its RFC 6962 proof against the anchor on chain.
    Proof {
        /// Position id.
        id: u64,
    },
    /// A case's daily behaviour summary and officer guidance (signed with --key).
    Day {
        /// Case id.
        case: String,
        /// Local date YYYY-MM-DD.
        date: String,
    },
    /// Walk a device along a straight track through the real gateway ports.
    Simulate {
        /// Device protocol id (the demo wristband by default).
        #[arg(long, default_value = "9003000001")]
        device: String,
        /// watch (TCP) or osmand (HTTP).
        #[arg(long, default_value = "watch")]
        protocol: String,
        /// Gateway address (host:port): 5093 for watch, 5055 for OsmAnd.
        #[arg(long, default_value = "127.0.0.1:5093")]
        gateway: String,
        /// Start point LAT,LON (default: the demo home).
        #[arg(long, default_value = "39.9150,116.4040")]
        from: String,
        /// Heading in degrees from north.
        #[arg(long, default_value_t = 90.0)]
        heading: f64,
        /// Metres per fix.
        #[arg(long, default_value_t = 150.0)]
        step_m: f64,
        /// Number of steps (the default walks 3 km east: out of the demo district).
        #[arg(long, default_value_t = 20)]
        steps: u32,
        /// Milliseconds between fixes sent.
        #[arg(long, default_value_t = 300)]
        interval_ms: u64,
        /// Remove the strap at the last fix (a tamper alarm).
        #[arg(long)]
        strap_removed: bool,
    },
}

#[derive(Subcommand)]
enum CaseCmd {
    /// Open a case (officer, --key).
    Open {
        /// Case id.
        id: String,
        /// Who is supervised: a DID or internal id.
        #[arg(long)]
        subject: String,
        /// Court order reference.
        #[arg(long)]
        legal_basis: String,
        /// Term start (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        term_start: String,
        /// Term end.
        #[arg(long)]
        term_end: String,
        /// Supervising officer account (default: the --key account).
        #[arg(long)]
        officer: Option<String>,
        /// IANA time zone of the case's schedules.
        #[arg(long, default_value = "Asia/Shanghai")]
        time_zone: String,
        /// Minutes before an unacknowledged alert escalates.
        #[arg(long, default_value_t = 15)]
        escalation_minutes: u32,
        /// Minutes without a valid position before "gone dark".
        #[arg(long, default_value_t = 20)]
        gone_dark_minutes: u32,
        /// Minutes without any message before "device offline".
        #[arg(long, default_value_t = 60)]
        offline_minutes: u32,
    },
    /// Close a case (term completed, or --revoked).
    Close {
        /// Case id.
        id: String,
        /// Supervision was revoked rather than completed.
        #[arg(long)]
        revoked: bool,
        /// Why.
        #[arg(long)]
        note: String,
    },
    /// Show a case with every zone version.
    Show {
        /// Case id.
        id: String,
    },
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// Register a device by its protocol id.
    Register {
        /// Protocol id (IMEI, watch id, OsmAnd id).
        id: String,
        /// watch or osmand.
        #[arg(long)]
        protocol: String,
        /// Label for officers.
        #[arg(long)]
        label: String,
    },
    /// Bind a device to a case.
    Bind {
        /// Device id.
        id: String,
        /// Case id.
        #[arg(long)]
        case: String,
    },
    /// Unbind a device from its case.
    Unbind {
        /// Device id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum ZoneCmd {
    /// Create or change a zone (a new version on chain).
    Set {
        /// Case id.
        case: String,
        /// Zone id.
        zone: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// An exclusion zone (must stay out) instead of an inclusion zone (must stay in).
        #[arg(long)]
        exclusion: bool,
        /// A circle: LAT,LON,RADIUS_M.
        #[arg(long)]
        circle: Option<String>,
        /// A GeoJSON Polygon or MultiPolygon geometry file.
        #[arg(long)]
        geojson: Option<PathBuf>,
        /// Metres of GPS drift tolerated at the boundary.
        #[arg(long, default_value_t = 30)]
        buffer_m: u32,
        /// When the rule applies, local time HH:MM-HH:MM (a curfew on an inclusion zone).
        #[arg(long)]
        window: Option<String>,
        /// Days the window starts on (mon,tue,…; default every day).
        #[arg(long)]
        days: Option<String>,
    },
    /// Remove a zone (a removed version on chain).
    Remove {
        /// Case id.
        case: String,
        /// Zone id.
        zone: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

fn supervision_command(ctx: &commands::Ctx, cmd: SupervisionCmd) -> anyhow::Result<()> {
    use SupervisionCmd as S;
    match cmd {
        S::Case(CaseCmd::Open {
            id,
            subject,
            legal_basis,
            term_start,
            term_end,
            officer,
            time_zone,
            escalation_minutes,
            gone_dark_minutes,
            offline_minutes,
        }) => supervision::open_case(
            ctx,
            supervision::NewCase {
                id: &id,
                subject: &subject,
                legal_basis: &legal_basis,
                term_start: &term_start,
                term_end: &term_end,
                officer: officer.as_deref(),
                time_zone: &time_zone,
                escalation_minutes,
                gone_dark_minutes,
                offline_minutes,
            },
        ),
        S::Case(CaseCmd::Close { id, revoked, note }) => supervision::close_case(ctx, &id, revoked, &note),
        S::Case(CaseCmd::Show { id }) => supervision::cases(ctx, Some(&id)),
        S::Cases => supervision::cases(ctx, None),
        S::Device(DeviceCmd::Register { id, protocol, label }) => {
            supervision::register_device(ctx, &id, &protocol, &label)
        }
        S::Device(DeviceCmd::Bind { id, case }) => supervision::bind(ctx, &id, Some(&case), None),
        S::Device(DeviceCmd::Unbind { id, reason }) => supervision::bind(ctx, &id, None, Some(&reason)),
        S::Devices => supervision::devices(ctx),
        S::Zone(ZoneCmd::Set { case, zone, name, exclusion, circle, geojson, buffer_m, window, days }) => {
            supervision::set_zone(
                ctx,
                supervision::NewZone {
                    case: &case,
                    zone: &zone,
                    name: &name,
                    exclusion,
                    circle: circle.as_deref(),
                    geojson: geojson.as_deref(),
                    buffer_m,
                    window: window.as_deref(),
                    days: days.as_deref(),
                },
            )
        }
        S::Zone(ZoneCmd::Remove { case, zone, reason }) => {
            supervision::remove_zone(ctx, &case, &zone, &reason)
        }
        S::Alerts { case, state } => supervision::alerts(ctx, case.as_deref(), state.as_deref()),
        S::Ack { alert, note } => supervision::step(ctx, &alert, &note, false),
        S::Resolve { alert, note } => supervision::step(ctx, &alert, &note, true),
        S::Positions { device, from, to } => {
            supervision::positions(ctx, &device, from.as_deref(), to.as_deref())
        }
        S::Proof { id } => supervision::proof(ctx, id),
        S::Day { case, date } => supervision::day(ctx, &case, &date),
        S::Simulate {
            device,
            protocol,
            gateway,
            from,
            heading,
            step_m,
            steps,
            interval_ms,
            strap_removed,
        } => {
            let (lat, lon) = from
                .split_once(',')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
                .ok_or_else(|| anyhow::anyhow!("--from takes LAT,LON"))?;
            supervision::simulate(
                ctx,
                supervision::Simulation {
                    device: &device,
                    protocol: &protocol,
                    gateway: &gateway,
                    from: (lat, lon),
                    heading_deg: heading,
                    step_m,
                    steps,
                    interval: std::time::Duration::from_millis(interval_ms),
                    strap_removed,
                },
            )
        }
    }
}

#[derive(Subcommand)]
enum LicenseCmd {
    /// An issuer issues a license (sign with --key: an issuer account of a trusted organization).
    Issue {
        /// License id, unique on the chain, e.g. BJ-LAW-2026-0042.
        #[arg(long)]
        id: String,
        /// License type, e.g. lawyer-practice.
        #[arg(long = "type", default_value = "lawyer-practice")]
        type_id: String,
        /// The holder's did:key.
        #[arg(long)]
        holder: String,
        /// Claims as name=value, exactly as the type's schema names them.
        #[arg(required = true)]
        claims: Vec<String>,
        /// Start of validity: YYYY-MM-DD or RFC 3339 (default: now).
        #[arg(long)]
        valid_from: Option<String>,
        /// End of validity: YYYY-MM-DD or RFC 3339.
        #[arg(long)]
        valid_until: String,
    },
    /// Extend a license's validity (sign with --key: an issuer account of the issuing org).
    Renew {
        /// License id.
        id: String,
        /// The new end of validity: YYYY-MM-DD or RFC 3339.
        #[arg(long)]
        valid_until: String,
        /// Why (recorded in the management record).
        #[arg(long)]
        reason: String,
    },
    /// Suspend an active license.
    Suspend {
        /// License id.
        id: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Reinstate a suspended license.
    Reinstate {
        /// License id.
        id: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Revoke a license for good.
    Revoke {
        /// License id.
        id: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// A license with its status and management records; with --key (the holder, an account of
    /// the issuer, or an auditor) also its usage records.
    Show {
        /// License id.
        id: String,
    },
    /// Licenses, filtered.
    List {
        /// Only this holder's (did:key).
        #[arg(long)]
        holder: Option<String>,
        /// Only this type.
        #[arg(long = "type")]
        type_id: Option<String>,
        /// Only this status now: active, suspended, revoked, expired, not_yet_valid.
        #[arg(long)]
        status: Option<String>,
        /// Only this issuing organization.
        #[arg(long)]
        issuer: Option<String>,
    },
    /// Export a license as a signed W3C Verifiable Credential (JSON).
    Credential {
        /// License id.
        id: String,
        /// Write it to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a credential file here, against the node's published state (DID documents,
    /// trusted issuers, the license record, signed status lists). With --key (an account key)
    /// the verification is recorded on chain as that account's usage record. Exits non-zero when
    /// the credential is not valid.
    Verify {
        /// The credential (JSON).
        file: PathBuf,
        /// What the verification is for (recorded).
        #[arg(long, default_value = "verification")]
        purpose: String,
    },
    /// Register a license type with the JSON Schema of its claims (sign with --key: an admin).
    RegisterType {
        /// Type id, e.g. pilot-license.
        #[arg(long = "type")]
        type_id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The claims' JSON Schema file (the supported subset is documented in the README).
        #[arg(long)]
        schema: PathBuf,
    },
    /// Trust an organization to issue a license type (sign with --key: an admin).
    Trust {
        /// Type id.
        #[arg(long = "type")]
        type_id: String,
        /// Organization id.
        #[arg(long)]
        org: String,
    },
    /// Withdraw that trust (sign with --key: an admin).
    Distrust {
        /// Type id.
        #[arg(long = "type")]
        type_id: String,
        /// Organization id.
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum IdentityCmd {
    /// Create a resident's Ed25519 key file and print its did:key.
    New {
        /// Where to write the key file (mode 0600; never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Who read a resident's attributes (signed with --key: the resident's own key file, or an
    /// auditor account's).
    AccessLog {
        /// The resident's did:key (default: the DID of --key).
        #[arg(long)]
        did: Option<String>,
    },
    /// A resident's consents and whether each is active, withdrawn or expired (signed with --key).
    Consents {
        /// The resident's did:key (default: the DID of --key).
        #[arg(long)]
        did: Option<String>,
    },
    /// A registrar attests a resident's attributes: values stay in this node's private store,
    /// salted commitments go on chain. Sign with --key (a registrar account).
    Attest {
        /// The resident's did:key.
        #[arg(long)]
        did: String,
        /// Attributes as name=value, e.g. name="Zhang San" national_id=110101199003074578.
        #[arg(required = true)]
        attributes: Vec<String>,
    },
    /// A resident grants an organization consent to read attributes for a purpose, signed with
    /// the resident's --key and relayed on chain by an account (--relay-key).
    Grant {
        /// The account key file that submits the resident-signed grant (e.g. the agency's).
        #[arg(long)]
        relay_key: PathBuf,
        /// The organization that may read.
        #[arg(long)]
        to: String,
        /// tax, pension, healthcare, utilities, banking, telecom, or any other purpose text.
        #[arg(long)]
        purpose: String,
        /// Comma-separated attribute names.
        #[arg(long, value_delimiter = ',', required = true)]
        attributes: Vec<String>,
        /// Days the consent stays valid.
        #[arg(long, default_value_t = 90)]
        days: u64,
        /// The grant's id (unique per resident; default: the current time in seconds).
        #[arg(long)]
        id: Option<u64>,
    },
    /// A resident withdraws a consent (effective from the next block), signed with --key and
    /// relayed by --relay-key.
    Revoke {
        /// The account key file that submits it.
        #[arg(long)]
        relay_key: PathBuf,
        /// The grant's id.
        #[arg(long)]
        grant: u64,
    },
    /// An agency reads a resident's attributes: commits an access record signed with --key, and
    /// gets the values only if the ledger accepts it.
    Read {
        /// The resident's did:key.
        #[arg(long)]
        did: String,
        /// Comma-separated attribute names.
        #[arg(long, value_delimiter = ',', required = true)]
        attributes: Vec<String>,
        /// The purpose (as in the consent).
        #[arg(long)]
        purpose: String,
        /// Read under this consent grant.
        #[arg(long, conflicts_with = "legal_basis", required_unless_present = "legal_basis")]
        grant: Option<u64>,
        /// Read under a legal basis instead, e.g. "Tax Collection Act art. 12" (flagged as such).
        #[arg(long)]
        legal_basis: Option<String>,
    },
    /// Prove who you are to the node remotely: answer a fresh challenge with the resident key
    /// of --key; prints the verified DID and which attributes are attested for it.
    Login,
    /// Resolve a DID (did:key or did:civic) to its DID document through the node.
    Resolve {
        /// The DID.
        did: String,
    },
}

#[derive(Subcommand)]
enum ProofCmd {
    /// Print the node's block-log checkpoint (size and RFC 6962 root over all block hashes).
    /// Keep it: `civic proof consistency` later proves the chain only grew from it.
    Checkpoint,
    /// Prove, offline, that the chain now extends a checkpoint you kept: no block up to it was
    /// rewritten (RFC 6962 consistency proof over the block hashes).
    Consistency {
        /// The checkpoint's size.
        #[arg(long)]
        size: u64,
        /// The checkpoint's root (hex).
        #[arg(long)]
        root: String,
    },
    /// Verify a transaction inclusion proof offline (RFC 6962) against its block header.
    ///
    /// The proof is a file saved from GET /v1/txs/{hash}/proof, or fetched from --node with
    /// --tx. Pass --block-hash with a block hash you trust (e.g. from another node or a
    /// published checkpoint) to also bind the header.
    Verify {
        /// Proof file (JSON).
        #[arg(required_unless_present = "tx")]
        file: Option<PathBuf>,
        /// Fetch the proof of this transaction from the node instead.
        #[arg(long, conflicts_with = "file")]
        tx: Option<String>,
        /// The block hash you trust for that height.
        #[arg(long)]
        block_hash: Option<String>,
        /// A validator public key (hex) whose quorum must have signed the block; repeat for each
        /// validator of the network.
        #[arg(long = "validator")]
        validators: Vec<String>,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Committed transactions per second and submit-to-commit latency of a fresh single-node
    /// network in a temporary directory, in-process and over HTTP, beside this machine's
    /// Ed25519 verification limit measured in the same run.
    Tx(bench::TxBenchArgs),
    /// Full W3C license credential verifications per second (proof, did:civic resolution, trust
    /// registry, validity, ledger record, status bits) against a fresh dev network's committed
    /// state, beside this machine's Ed25519 verification limit measured in the same run.
    Credentials(bench::CredentialBenchArgs),
    /// Wristband positions per second through the real watch-protocol gateway of a fresh dev
    /// network (decoded, stored durably, evaluated against ≥ 10,000 zones, anchored), beside
    /// this machine's decode and geofence-evaluation limits measured in the same run.
    Ingest(bench::IngestBenchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // The storage engines narrate routine maintenance at INFO; operators need their warnings.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,fjall=warn,lsm_tree=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
    match dispatch(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn license_command(ctx: &commands::Ctx, cmd: LicenseCmd) -> anyhow::Result<()> {
    match cmd {
        LicenseCmd::Issue { id, type_id, holder, claims, valid_from, valid_until } => license::issue(
            ctx,
            license::IssueArgs {
                id: &id,
                type_id: &type_id,
                holder: &holder,
                claims: &claims,
                valid_from: valid_from.as_deref(),
                valid_until: &valid_until,
            },
        ),
        LicenseCmd::Renew { id, valid_until, reason } => {
            license::act(ctx, "renew", &id, &reason, Some(&valid_until))
        }
        LicenseCmd::Suspend { id, reason } => license::act(ctx, "suspend", &id, &reason, None),
        LicenseCmd::Reinstate { id, reason } => license::act(ctx, "reinstate", &id, &reason, None),
        LicenseCmd::Revoke { id, reason } => license::act(ctx, "revoke", &id, &reason, None),
        LicenseCmd::Show { id } => license::show(ctx, &id),
        LicenseCmd::List { holder, type_id, status, issuer } => license::list(
            ctx,
            &[
                ("holder", holder.as_deref()),
                ("type", type_id.as_deref()),
                ("status", status.as_deref()),
                ("issuer", issuer.as_deref()),
            ],
        ),
        LicenseCmd::Credential { id, out } => license::credential(ctx, &id, out.as_deref()),
        LicenseCmd::Verify { file, purpose } => license::verify_file(ctx, &file, &purpose),
        LicenseCmd::RegisterType { type_id, name, schema } => {
            license::register_type(ctx, &type_id, &name, &schema)
        }
        LicenseCmd::Trust { type_id, org } => license::trust(ctx, &type_id, &org, true),
        LicenseCmd::Distrust { type_id, org } => license::trust(ctx, &type_id, &org, false),
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let ctx = commands::Ctx { node: cli.node, key: cli.key, json: cli.json };
    match cli.command {
        Command::Dev(a) => run::dev(run::DevOptions {
            data_dir: a.data_dir,
            store: a.store,
            http: a.http,
            demo: !a.no_demo,
            block_interval_ms: a.block_interval_ms,
            public_verify_rate: a.public_verify_rate,
            gateway: a.gateway.options(),
        }),
        Command::Node(a) => run::node(run::NodeOptions {
            data_dir: a.data_dir,
            store: a.store,
            genesis: a.genesis,
            validator_key: a.validator_key,
            http: a.http,
            block_interval_ms: a.block_interval_ms,
            service_keys: a.service_keys,
            public_url: a.public_url,
            public_verify_rate: a.public_verify_rate,
            gateway: a.gateway.options(),
        }),
        Command::Keys(KeysCmd::New { out, account }) => commands::keys_new(&ctx, &out, account.as_deref()),
        Command::Keys(KeysCmd::Show { file }) => commands::keys_show(&ctx, &file),
        Command::Keys(KeysCmd::List { dir }) => commands::keys_list(&ctx, &dir),
        Command::Tx(TxCmd::Submit { module, call, no_wait }) => {
            commands::tx_submit(&ctx, &module, &call, !no_wait)
        }
        Command::Tx(TxCmd::Show { hash }) => commands::tx_show(&ctx, &hash),
        Command::Block(BlockCmd::Show { height }) => commands::block_show(&ctx, &height),
        Command::Status => commands::status(&ctx),
        Command::Gov(GovCmd::Proposals) => commands::gov_proposals(&ctx),
        Command::Gov(GovCmd::Vote { id, decision }) => commands::gov_vote(&ctx, id, decision == "yes"),
        Command::Notarize { file, label } => commands::notarize(&ctx, &file, &label),
        Command::Identity(IdentityCmd::New { out }) => commands::identity_new(&ctx, &out),
        Command::Identity(IdentityCmd::Resolve { did }) => commands::identity_resolve(&ctx, &did),
        Command::Identity(IdentityCmd::Login) => commands::identity_login(&ctx),
        Command::Identity(IdentityCmd::Attest { did, attributes }) => {
            commands::identity_attest(&ctx, &did, &attributes)
        }
        Command::Identity(IdentityCmd::Grant { relay_key, to, purpose, attributes, days, id }) => {
            commands::identity_grant(&ctx, &relay_key, &to, &purpose, attributes, days, id)
        }
        Command::Identity(IdentityCmd::Revoke { relay_key, grant }) => {
            commands::identity_revoke(&ctx, &relay_key, grant)
        }
        Command::License(cmd) => license_command(&ctx, cmd),
        Command::Supervision(cmd) => supervision_command(&ctx, cmd),
        Command::Identity(IdentityCmd::Read { did, attributes, purpose, grant, legal_basis }) => {
            commands::identity_read(&ctx, &did, attributes, &purpose, grant, legal_basis)
        }
        Command::Identity(IdentityCmd::AccessLog { did }) => {
            commands::identity_records(&ctx, did.as_deref(), "access-log")
        }
        Command::Identity(IdentityCmd::Consents { did }) => {
            commands::identity_records(&ctx, did.as_deref(), "consents")
        }
        Command::Proof(ProofCmd::Checkpoint) => commands::proof_checkpoint(&ctx),
        Command::Proof(ProofCmd::Consistency { size, root }) => {
            commands::proof_consistency(&ctx, size, &root)
        }
        Command::Proof(ProofCmd::Verify { file, tx, block_hash, validators }) => {
            commands::proof_verify(&ctx, file.as_deref(), tx.as_deref(), block_hash.as_deref(), &validators)
        }
        Command::VerifyState { data_dir } => run::verify_state(&data_dir, ctx.json),
        Command::Bench(BenchCmd::Tx(a)) => bench::tx(a, ctx.json),
        Command::Bench(BenchCmd::Credentials(a)) => bench::credentials(a, ctx.json),
        Command::Bench(BenchCmd::Ingest(a)) => bench::ingest(a, ctx.json),
    }
}
