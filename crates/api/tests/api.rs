//! The API against a real node (in-memory store, one validator), driven through
//! `Router::oneshot`; blocks are produced by calling the consensus application directly.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use civic_api::dto::{
    BatchSubmitResponse, BlockDto, BlockListDto, BlockLogConsistencyDto, BlockLogDto, BlockLogInclusionDto,
    NonceDto, Problem, StateDto, StatusDto, SubmitTxResponse, TxDto, TxProofDto, TxState,
};
use civic_api::{ApiOptions, problem::types};
use civic_consensus::{Automaton, Reporter};
use civic_ledger::modules::membership::{
    GenesisAccount, GenesisOrg, GovernanceAction, GovernanceParams, MembershipCall, Validator,
};
use civic_ledger::modules::notary::NotaryCall;
use civic_ledger::{Block, Call, Certificate, Executor, Genesis, SignedTx, Transaction};
use civic_node::{Node, NodeConfig};
use civic_store::MemoryStore;
use civic_types::{AccountId, ChainId, Hash32, Nonce, OrgId, Role, SecretKey, UnixMillis, sha256};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Net {
    node: Arc<Node>,
    app: Router,
    validator: SecretKey,
    admin: SecretKey,
    chain_id: ChainId,
}

fn net_with(options: ApiOptions) -> Net {
    let chain_id = ChainId::new("test-chain").unwrap();
    let validator = SecretKey::from_seed(&[7; 32]);
    let admin = SecretKey::from_seed(&[1; 32]);
    let justice = OrgId::new("justice").unwrap();
    let genesis = Genesis {
        chain_id: chain_id.clone(),
        genesis_time: UnixMillis::new(1_700_000_000_000),
        organizations: vec![GenesisOrg {
            id: justice.clone(),
            name: "Justice Bureau".into(),
            accounts: vec![GenesisAccount {
                name: "admin".into(),
                public_key: admin.public_key(),
                roles: BTreeSet::from([Role::Admin]),
            }],
        }],
        validators: vec![Validator {
            name: "justice-1".into(),
            org: justice,
            public_key: validator.public_key(),
        }],
        governance: GovernanceParams::default(),
    };
    let node = Node::open(
        Arc::new(MemoryStore::new()),
        &genesis,
        Executor::new(chain_id.clone()),
        validator.public_key(),
        NodeConfig::new(PathBuf::from("unused-by-the-memory-store")),
    )
    .unwrap();
    let node = Arc::new(node);
    let app = civic_api::router_with(node.clone(), options);
    Net { node, app, validator, admin, chain_id }
}

fn net() -> Net {
    net_with(ApiOptions::default())
}

fn admin_id() -> AccountId {
    AccountId::new("justice/admin").unwrap()
}

impl Net {
    fn sign(&self, nonce: u64, call: Call) -> SignedTx {
        Transaction { chain_id: self.chain_id.clone(), signer: admin_id(), nonce: Nonce::new(nonce), call }
            .sign(&self.admin)
    }

    fn notarize(&self, nonce: u64, label: &str) -> SignedTx {
        self.sign(
            nonce,
            Call::new(&NotaryCall::Notarize { digest: sha256(label.as_bytes()), label: label.into() }),
        )
    }

    /// Proposes, certifies and commits the next block (empty only when `force`).
    fn produce(&self, force: bool) -> Block {
        let mut block = self.node.propose(force).unwrap().expect("something to propose");
        block.certificate = Certificate::single(&block.header, &self.validator);
        self.node.finalized(block.clone()).unwrap();
        self.node.persist().unwrap();
        block
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    async fn json(&self, req: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = self.call(req).await;
        let v = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {}", String::from_utf8_lossy(&body)));
        (status, v)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, uri: &str) -> T {
        let (status, v) = self.json(get(uri)).await;
        assert_eq!(status, StatusCode::OK, "GET {uri}: {v}");
        serde_json::from_value(v).unwrap()
    }

    /// Asserts a problem+json answer with `status` and `kind`, and returns it.
    async fn problem(&self, req: Request<Body>, status: StatusCode, kind: &str) -> Problem {
        let (got, headers, body) = self.call(req).await;
        assert_eq!(got, status, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        let p: Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(p.problem_type, kind);
        assert_eq!(p.status, status.as_u16());
        assert!(!p.title.is_empty() && !p.detail.is_empty());
        p
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

fn submit_body(tx: &SignedTx) -> Value {
    json!({ "tx": B64.encode(tx.to_bytes()) })
}

#[tokio::test]
async fn submitted_transaction_commits_and_its_inclusion_proof_verifies() {
    let net = net();
    let tx = net.notarize(0, "contract.pdf");
    let (status, v) = net.json(post_json("/v1/txs", &submit_body(&tx))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let answer: SubmitTxResponse = serde_json::from_value(v).unwrap();
    assert_eq!((answer.hash.as_str(), answer.status), (tx.hash().to_hex().as_str(), TxState::Pending));

    let uri = format!("/v1/txs/{}", tx.hash());
    let p = net.problem(get(&uri), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
    assert!(p.detail.contains("may still be pending"), "{}", p.detail);

    // A second transaction so the proof has a non-empty audit path.
    let second = net.notarize(1, "annex.pdf");
    let (status, _) = net.json(post_json("/v1/txs", &submit_body(&second))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let block = net.produce(false);
    assert_eq!(block.txs.len(), 2);

    let t: TxDto = net.get(&uri).await;
    assert_eq!((t.height, t.index, t.nonce), (1, 0, 0));
    assert_eq!(t.signer, "justice/admin");
    assert_eq!(t.block_hash, block.hash().to_hex());
    assert_eq!(t.receipt.status, civic_api::dto::ReceiptStatus::Ok);
    assert_eq!(t.receipt.events[0].kind, "notarized");
    assert_eq!(t.call["module"], "notary");
    assert_eq!(t.call["call"]["notarize"]["label"], "contract.pdf");
    assert_eq!(B64.decode(&t.tx).unwrap(), tx.to_bytes());

    let proof: TxProofDto = net.get(&format!("/v1/txs/{}/proof", second.hash())).await;
    assert_eq!((proof.leaf_index, proof.tree_size, proof.audit_path.len()), (1, 2, 1));
    // Check it by hand against the committed header, then with the DTO's own offline check.
    let header = &block.header;
    let path: Vec<Hash32> = proof.audit_path.iter().map(|h| h.parse().unwrap()).collect();
    let inclusion =
        civic_merkle::InclusionProof { leaf_index: proof.leaf_index, tree_size: proof.tree_size, path };
    let leaf = civic_merkle::leaf_hash(&B64.decode(&proof.tx).unwrap());
    civic_merkle::verify_inclusion(leaf, &inclusion, header.tx_root).unwrap();
    assert_eq!(&proof.verify().unwrap(), header);
    assert_eq!(proof.block_hash, block.hash().to_hex());
    proof.verify_certificate(&[net.validator.public_key()]).unwrap();
    assert!(proof.verify_certificate(&[net.admin.public_key()]).is_err());

    // A proof for another transaction's bytes does not verify.
    let mut forged = proof.clone();
    forged.tx = B64.encode(tx.to_bytes());
    forged.tx_hash = tx.hash().to_hex();
    assert!(forged.verify().is_err());

    let b: BlockDto = net.get("/v1/blocks/1").await;
    assert_eq!(b.hash, block.hash().to_hex());
    assert_eq!(b.tx_hashes, vec![tx.hash().to_hex(), second.hash().to_hex()]);
    assert_eq!(b.receipts.len(), 2);
    assert_eq!(b.certificate[0].validator, net.validator.public_key().to_string());
    assert_eq!(b.header.to_header().unwrap(), block.header);
}

#[tokio::test]
async fn raw_octet_stream_submission_is_accepted() {
    let net = net();
    let tx = net.notarize(0, "raw");
    let req = Request::post("/v1/txs")
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(tx.to_bytes()))
        .unwrap();
    let (status, v) = net.json(req).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(v["hash"], tx.hash().to_hex());
    assert_eq!(net.node.status().unwrap().mempool_size, 1);

    let req =
        Request::post("/v1/txs").header(header::CONTENT_TYPE, "text/plain").body(Body::from("x")).unwrap();
    net.problem(req, StatusCode::UNSUPPORTED_MEDIA_TYPE, types::UNSUPPORTED_MEDIA_TYPE).await;
}

/// Produces one block as soon as the mempool has work.
fn produce_when_ready(net: &Net) -> Block {
    net.node.wait_for_work(Duration::from_secs(30));
    net.produce(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_commit_answers_with_the_receipt() {
    let net = Arc::new(net());
    let tx = net.notarize(0, "waited");
    let waiter = {
        let net = net.clone();
        let body = submit_body(&tx);
        tokio::spawn(async move { net.json(post_json("/v1/txs?wait=commit", &body)).await })
    };
    let producer = net.clone();
    let block = tokio::task::spawn_blocking(move || produce_when_ready(&producer)).await.unwrap();
    let (status, v) = waiter.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    let answer: SubmitTxResponse = serde_json::from_value(v).unwrap();
    assert_eq!(answer.status, TxState::Committed);
    assert_eq!((answer.height, answer.index), (Some(1), Some(0)));
    assert_eq!(answer.block_hash, Some(block.hash().to_hex()));
    assert_eq!(answer.receipt.unwrap().status, civic_api::dto::ReceiptStatus::Ok);
}

#[tokio::test]
async fn wait_commit_times_out_as_pending_with_a_note() {
    let net = net_with(ApiOptions { commit_wait: Duration::from_millis(20), ..ApiOptions::default() });
    let tx = net.notarize(0, "slow");
    let (status, v) = net.json(post_json("/v1/txs?wait=commit", &submit_body(&tx))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["status"], "pending");
    assert!(v["note"].as_str().unwrap().contains("still pending"), "{v}");

    let p = net
        .problem(
            post_json("/v1/txs?wait=soon", &submit_body(&tx)),
            StatusCode::BAD_REQUEST,
            types::INVALID_PARAMETER,
        )
        .await;
    assert!(p.detail.contains("`wait`"), "{}", p.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_the_proposer_drops_is_answered_422() {
    let net = Arc::new(net());
    // The admin rotates its own key, then sends a transaction signed with the old key: when the
    // block is built the second is no longer executable and the proposer drops it.
    let new_key = SecretKey::from_seed(&[9; 32]);
    let rotate = net.sign(
        0,
        Call::new(&MembershipCall::RotateKey { account: admin_id(), new_key: new_key.public_key() }),
    );
    let (status, _) = net.json(post_json("/v1/txs", &submit_body(&rotate))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let stale = net.notarize(1, "signed with the old key");
    let waiter = {
        let net = net.clone();
        let body = submit_body(&stale);
        tokio::spawn(async move {
            net.problem(
                post_json("/v1/txs?wait=commit", &body),
                StatusCode::UNPROCESSABLE_ENTITY,
                types::DROPPED,
            )
            .await
        })
    };
    // Wait until the second transaction is pending too, then build the block.
    let admitted = async {
        while net.node.status().unwrap().mempool_size < 2 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), admitted)
        .await
        .expect("the second transaction is admitted");
    let block = net.produce(false);
    assert_eq!(block.txs, vec![rotate]);
    let p = waiter.await.unwrap();
    assert!(p.detail.contains("dropped"), "{}", p.detail);
}

#[tokio::test]
async fn refused_submissions_are_problems() {
    let net = net();
    let p = net
        .problem(
            post_json("/v1/txs", &json!({ "tx": "not base64!" })),
            StatusCode::BAD_REQUEST,
            types::BAD_ENCODING,
        )
        .await;
    assert!(p.detail.contains("base64"), "{}", p.detail);
    net.problem(
        post_json("/v1/txs", &json!({ "tx": B64.encode(b"garbage") })),
        StatusCode::BAD_REQUEST,
        types::BAD_ENCODING,
    )
    .await;
    let p = net
        .problem(
            post_json("/v1/txs", &json!({ "transaction": "" })),
            StatusCode::BAD_REQUEST,
            types::MALFORMED_BODY,
        )
        .await;
    assert!(p.detail.contains("missing field `tx`"), "{}", p.detail);
    let req = Request::post("/v1/txs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{"))
        .unwrap();
    net.problem(req, StatusCode::BAD_REQUEST, types::MALFORMED_BODY).await;

    let mut forged = net.notarize(0, "forged");
    forged.signature.0[0] ^= 1;
    net.problem(post_json("/v1/txs", &submit_body(&forged)), StatusCode::BAD_REQUEST, types::BAD_SIGNATURE)
        .await;

    let stranger = Transaction {
        chain_id: net.chain_id.clone(),
        signer: AccountId::new("justice/nobody").unwrap(),
        nonce: Nonce::new(0),
        call: Call::new(&NotaryCall::Notarize { digest: sha256(b"x"), label: String::new() }),
    }
    .sign(&SecretKey::from_seed(&[3; 32]));
    net.problem(post_json("/v1/txs", &submit_body(&stranger)), StatusCode::FORBIDDEN, types::UNAUTHORIZED)
        .await;

    let first = net.notarize(0, "first");
    assert_eq!(net.call(post_json("/v1/txs", &submit_body(&first))).await.0, StatusCode::ACCEPTED);
    let p =
        net.problem(post_json("/v1/txs", &submit_body(&first)), StatusCode::CONFLICT, types::DUPLICATE).await;
    assert_eq!(p.instance, Some(format!("/v1/txs/{}", first.hash())));
    net.problem(
        post_json("/v1/txs", &submit_body(&net.notarize(0, "other"))),
        StatusCode::CONFLICT,
        types::NONCE_TAKEN,
    )
    .await;
    net.produce(false);

    let p = net
        .problem(
            post_json("/v1/txs", &submit_body(&net.notarize(0, "replay"))),
            StatusCode::CONFLICT,
            types::NONCE_TOO_LOW,
        )
        .await;
    assert_eq!(p.expected_nonce, Some(1));
    net.problem(post_json("/v1/txs", &submit_body(&first)), StatusCode::CONFLICT, types::ALREADY_COMMITTED)
        .await;
    net.problem(
        post_json("/v1/txs", &submit_body(&net.notarize(5000, "far ahead"))),
        StatusCode::CONFLICT,
        types::NONCE_TOO_HIGH,
    )
    .await;

    let nonce: NonceDto = net.get("/v1/accounts/justice/admin/nonce").await;
    assert_eq!((nonce.nonce, nonce.height), (1, 1));
    let nonce: NonceDto = net.get("/v1/accounts/justice%2Fadmin/nonce").await;
    assert_eq!(nonce.account, "justice/admin");
    net.problem(get("/v1/accounts/justice/nobody/nonce"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
    net.problem(get("/v1/accounts/Bad/nonce"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
}

#[tokio::test]
async fn bodies_are_bounded() {
    let net = net();
    let huge = json!({ "tx": "A".repeat(200 * 1024) });
    let p =
        net.problem(post_json("/v1/txs", &huge), StatusCode::PAYLOAD_TOO_LARGE, types::BODY_TOO_LARGE).await;
    assert!(p.detail.contains("131072"), "{}", p.detail);
    // Without a Content-Length the limit holds while reading.
    let chunks = futures_stream(vec![vec![b'A'; 100 * 1024], vec![b'A'; 100 * 1024]]);
    let req = Request::post("/v1/txs")
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from_stream(chunks))
        .unwrap();
    net.problem(req, StatusCode::PAYLOAD_TOO_LARGE, types::BODY_TOO_LARGE).await;

    // The batch endpoint takes far more than 128 KiB...
    let garbage: Vec<String> = (0..10_000).map(|_| "!".repeat(20)).collect();
    let (status, v) = net.json(post_json("/v1/txs/batch", &json!({ "txs": garbage }))).await;
    assert_eq!(status, StatusCode::OK);
    let r: BatchSubmitResponse = serde_json::from_value(v).unwrap();
    assert_eq!((r.accepted, r.rejected), (0, 10_000));
    // ...but no more than 10,000 transactions.
    let too_many: Vec<String> = (0..10_001).map(|_| String::new()).collect();
    net.problem(
        post_json("/v1/txs/batch", &json!({ "txs": too_many })),
        StatusCode::PAYLOAD_TOO_LARGE,
        types::BODY_TOO_LARGE,
    )
    .await;
}

fn futures_stream(chunks: Vec<Vec<u8>>) -> impl tokio_stream::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    tokio_stream::iter(chunks.into_iter().map(Ok))
}

#[tokio::test]
async fn batch_reports_each_transaction() {
    let net = net();
    let a = net.notarize(0, "a");
    let b = net.notarize(1, "b");
    let mut bad = net.notarize(2, "c");
    bad.signature.0[5] ^= 1;
    let body = json!({ "txs": [B64.encode(a.to_bytes()), "%%%", B64.encode(b.to_bytes()), B64.encode(bad.to_bytes())] });
    let (status, v) = net.json(post_json("/v1/txs/batch", &body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r: BatchSubmitResponse = serde_json::from_value(v).unwrap();
    assert_eq!((r.accepted, r.rejected), (2, 2));
    let oks: Vec<bool> = r.results.iter().map(|x| x.ok).collect();
    assert_eq!(oks, vec![true, false, true, false]);
    assert_eq!(r.results[0].hash, Some(a.hash().to_hex()));
    assert_eq!(r.results[1].hash, None);
    assert_eq!(r.results[1].error.as_ref().unwrap().problem_type, types::BAD_ENCODING);
    assert_eq!(r.results[3].error.as_ref().unwrap().problem_type, types::BAD_SIGNATURE);
    assert_eq!(net.produce(false).txs, vec![a, b]);
}

#[tokio::test]
async fn state_values_come_with_proofs_of_presence_and_absence() {
    let net = net();
    let s: StateDto = net.get("/v1/state/membership/account/justice/admin").await;
    assert_eq!(s.height, 0);
    assert!(s.value.is_some());
    assert_eq!(s.decoded.as_ref().unwrap()["id"], "justice/admin");
    assert_eq!(s.decoded.as_ref().unwrap()["roles"], json!(["admin"]));
    let header = s.verify().unwrap();
    assert_eq!(header, net.node.header(civic_types::Height::new(0)).unwrap().unwrap());
    // The same check through the ledger's own proof type.
    let mut tampered = s.clone();
    tampered.value = Some(B64.encode(b"another value"));
    assert!(tampered.verify().is_err(), "a proof must not verify for another value");

    let missing: StateDto = net.get("/v1/state/membership/account/justice/nobody").await;
    assert_eq!(missing.value, None);
    missing.verify().unwrap();
    let mut claimed = missing.clone();
    claimed.value = s.value.clone();
    assert!(claimed.verify().is_err(), "a proof of absence must not prove presence");

    // History: after a block the latest root moves on and height 0 stays provable.
    net.node.submit(net.notarize(0, "doc")).unwrap();
    net.produce(false);
    let nonce: StateDto = net.get("/v1/state/core/nonce/justice/admin").await;
    assert_eq!((nonce.height, nonce.decoded.clone()), (1, Some(json!(1))));
    nonce.verify().unwrap();
    let old: StateDto = net.get("/v1/state/core/nonce/justice/admin?height=0").await;
    assert_eq!((old.height, old.value.as_deref()), (0, None));
    old.verify().unwrap();

    net.problem(get("/v1/state/x?height=99"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
    let p = net
        .problem(get("/v1/state/x?height=minus-one"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER)
        .await;
    assert!(p.detail.contains("`height`"), "{}", p.detail);
}

#[tokio::test]
async fn membership_reads() {
    let net = net();
    let orgs: Value = net.get("/v1/membership/organizations").await;
    assert_eq!(orgs["organizations"][0]["id"], "justice");
    assert_eq!(orgs["organizations"][0]["active"], true);
    let accounts: Value = net.get("/v1/membership/accounts?org=justice").await;
    assert_eq!(accounts["accounts"][0]["id"], "justice/admin");
    assert_eq!(accounts["accounts"][0]["public_key"], net.admin.public_key().to_string());
    let none: Value = net.get("/v1/membership/accounts?org=health").await;
    assert_eq!(none["accounts"], json!([]));
    net.problem(
        get("/v1/membership/accounts?org=NOT%20AN%20ORG"),
        StatusCode::BAD_REQUEST,
        types::INVALID_PARAMETER,
    )
    .await;

    // With one organization the proposer's own vote is the quorum: it executes at once.
    let health_admin = SecretKey::from_seed(&[4; 32]);
    let propose = MembershipCall::Propose {
        title: "Admit the health bureau".into(),
        action: GovernanceAction::AddOrganization {
            org: OrgId::new("health").unwrap(),
            name: "Health Bureau".into(),
            admin: AccountId::new("health/admin").unwrap(),
            admin_key: health_admin.public_key(),
        },
    };
    net.node.submit(net.sign(0, Call::new(&propose))).unwrap();
    net.produce(false);
    let list: Value = net.get("/v1/membership/proposals").await;
    assert_eq!(list["proposals"][0]["status"], "executed");
    assert_eq!(list["proposals"][0]["approvals"], 1);
    assert_eq!(list["proposals"][0]["required"], 1);
    let one: Value = net.get("/v1/membership/proposals/0").await;
    assert_eq!((one["id"].clone(), one["executed_at"].clone()), (json!(0), json!(1)));
    net.problem(get("/v1/membership/proposals/7"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;

    let page: Value = net.get("/v1/membership/organizations?limit=1").await;
    assert_eq!(page["organizations"][0]["id"], "health");
    assert_eq!(page["next_after"], "health");
    let page: Value = net.get("/v1/membership/organizations?limit=1&after=health").await;
    assert_eq!(page["organizations"][0]["id"], "justice");
    net.problem(
        get("/v1/membership/organizations?limit=0"),
        StatusCode::BAD_REQUEST,
        types::INVALID_PARAMETER,
    )
    .await;
}

#[tokio::test]
async fn status_and_block_pages() {
    let net = net();
    net.produce(true);
    net.produce(true);
    let s: StatusDto = net.get("/v1/status").await;
    assert_eq!((s.chain_id.as_str(), s.height, s.mempool_size), ("test-chain", 2, 0));
    assert_eq!(s.node_key, net.validator.public_key().to_string());
    assert_eq!(s.validators[0].name, "justice-1");

    let newest: BlockListDto = net.get("/v1/blocks").await;
    let heights: Vec<u64> = newest.blocks.iter().map(|b| b.header.height).collect();
    assert_eq!((heights, newest.next_from), (vec![2, 1, 0], None));
    assert_eq!(newest.blocks[0].hash, s.latest_block_hash);
    let page: BlockListDto = net.get("/v1/blocks?from=0&limit=2").await;
    let heights: Vec<u64> = page.blocks.iter().map(|b| b.header.height).collect();
    assert_eq!((heights, page.next_from), (vec![0, 1], Some(2)));
    let page: BlockListDto = net.get("/v1/blocks?limit=1").await;
    assert_eq!(page.next_from, Some(1));
    let p = net.problem(get("/v1/blocks?limit=101"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    assert!(p.detail.contains("`limit`"), "{}", p.detail);
    net.problem(get("/v1/blocks/3"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
}

#[tokio::test]
async fn the_block_log_proves_blocks_and_append_only_history() {
    let net = net();
    for _ in 0..6 {
        net.produce(true);
    }
    let checkpoint: BlockLogDto = net.get("/v1/chain/log?size=3").await;
    assert_eq!(checkpoint.size, 3);
    for _ in 0..4 {
        net.produce(true);
    }
    let now: BlockLogDto = net.get("/v1/chain/log").await;
    assert_eq!(now.size, 11, "genesis plus ten blocks");

    // Block 5 is in the log, and its leaf is that block's hash.
    let inc: BlockLogInclusionDto = net.get("/v1/chain/log/inclusion/5").await;
    let block: BlockDto = net.get("/v1/blocks/5").await;
    assert_eq!(inc.block_hash, block.hash);
    assert_eq!(inc.root, now.root);
    inc.verify().unwrap();
    let mut forged = inc.clone();
    forged.block_hash = sha256(b"another block").to_hex();
    assert!(forged.verify().is_err());

    // The log of 3 blocks is a prefix of the log of 11: history was only appended to.
    let c: BlockLogConsistencyDto = net.get("/v1/chain/log/consistency?old=3").await;
    assert_eq!((c.old_size, c.new_size), (3, 11));
    assert_eq!((c.old_root.as_str(), c.new_root.as_str()), (checkpoint.root.as_str(), now.root.as_str()));
    c.verify().unwrap();
    let mut rewritten = c.clone();
    rewritten.old_root = sha256(b"rewritten history").to_hex();
    assert!(rewritten.verify().is_err());

    net.problem(get("/v1/chain/log?size=12"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    net.problem(get("/v1/chain/log/consistency?old=0"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER)
        .await;
    net.problem(get("/v1/chain/log/inclusion/11"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
}

#[tokio::test]
async fn dids_resolve_from_keys_and_membership() {
    let net = net();
    // did:key: the w3c-ccg vector for seed 00…00.
    let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    let r: Value = net.get(&format!("/v1/dids/{did}")).await;
    assert_eq!(r["didDocument"]["id"], did);
    assert_eq!(r["didDocument"]["verificationMethod"][0]["type"], "Multikey");

    // did:civic: the justice bureau's admin key, from genesis membership.
    let r: Value = net.get("/v1/dids/did:civic:justice").await;
    let doc = &r["didDocument"];
    assert_eq!(doc["id"], "did:civic:justice");
    assert_eq!(doc["verificationMethod"][0]["id"], "did:civic:justice#admin");
    assert_eq!(
        doc["verificationMethod"][0]["publicKeyMultibase"],
        civic_identity::multikey(&net.admin.public_key())
    );
    assert_eq!(doc["capabilityInvocation"][0], "did:civic:justice#admin");
    assert_eq!(r["didDocumentMetadata"]["deactivated"], false);

    // After a key rotation the document shows the new key and keeps the old one in metadata.
    let new_key = SecretKey::from_seed(&[44; 32]);
    let rotate = MembershipCall::RotateKey { account: admin_id(), new_key: new_key.public_key() };
    let tx = net.sign(0, Call::new(&rotate));
    net.call(post_json("/v1/txs", &submit_body(&tx))).await;
    net.produce(false);
    let r: Value = net.get("/v1/dids/did:civic:justice").await;
    assert_eq!(
        r["didDocument"]["verificationMethod"][0]["publicKeyMultibase"],
        civic_identity::multikey(&new_key.public_key())
    );
    assert_eq!(
        r["didDocumentMetadata"]["retiredKeys"][0]["publicKeyMultibase"],
        civic_identity::multikey(&net.admin.public_key())
    );

    net.problem(get("/v1/dids/did:civic:nowhere"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
    net.problem(get("/v1/dids/did:web:example.com"), StatusCode::BAD_REQUEST, types::METHOD_NOT_SUPPORTED)
        .await;
    net.problem(get("/v1/dids/did:key:z6Mkbad"), StatusCode::BAD_REQUEST, types::INVALID_DID).await;
    net.problem(get("/v1/dids/not-a-did"), StatusCode::BAD_REQUEST, types::INVALID_DID).await;
}

#[tokio::test]
async fn bad_paths_unknown_routes_and_methods_are_problems() {
    let net = net();
    let p = net.problem(get("/v1/txs/not-a-hash"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    assert!(p.detail.contains("`hash`"), "{}", p.detail);
    let p = net.problem(get("/v1/txs/zz/proof"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    assert!(p.detail.contains("`hash`"), "{}", p.detail);
    let p = net.problem(get("/v1/blocks/tall"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    assert!(p.detail.contains("`height`"), "{}", p.detail);
    let p = net
        .problem(get("/v1/membership/proposals/-1"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER)
        .await;
    assert!(p.detail.contains("`id`"), "{}", p.detail);
    net.problem(
        get(&format!("/v1/txs/{}/proof", sha256(b"unknown"))),
        StatusCode::NOT_FOUND,
        types::NOT_FOUND,
    )
    .await;
    let p = net.problem(get("/v1/txs/%FF%FE"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    assert!(p.detail.contains("hash"), "{}", p.detail);
    let p = net.problem(get("/v2/nothing"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
    assert!(p.detail.contains("/v2/nothing"), "{}", p.detail);
    let req = Request::delete("/v1/status").body(Body::empty()).unwrap();
    net.problem(req, StatusCode::METHOD_NOT_ALLOWED, types::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn openapi_document_is_3_1_and_lists_every_endpoint() {
    let net = net();
    let (status, headers, body) = net.call(get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    for path in [
        "/v1/status",
        "/v1/txs",
        "/v1/txs/batch",
        "/v1/txs/{hash}",
        "/v1/txs/{hash}/proof",
        "/v1/blocks",
        "/v1/blocks/{height}",
        "/v1/chain/log",
        "/v1/chain/log/inclusion/{height}",
        "/v1/chain/log/consistency",
        "/v1/state/{key}",
        "/v1/membership/organizations",
        "/v1/membership/accounts",
        "/v1/membership/proposals",
        "/v1/membership/proposals/{id}",
        "/v1/accounts/{account}/nonce",
        "/v1/events",
        "/v1/dids/{did}",
        "/v1/identity/residents/{did}/access-log",
        "/v1/identity/residents/{did}/consents",
        "/v1/licenses",
        "/v1/licenses/{id}",
        "/v1/licenses/{id}/credential",
        "/v1/licenses/{id}/verification",
        "/v1/status-lists/{id}",
        "/v1/credentials/verify",
        "/metrics",
        "/openapi.json",
        "/",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    let post = &doc["paths"]["/v1/txs"]["post"];
    assert!(post["responses"]["409"]["content"]["application/problem+json"].is_object());
    assert!(post["requestBody"]["content"]["application/octet-stream"].is_object());
    assert!(doc["components"]["schemas"]["TxProofDto"].is_object());
    assert_eq!(doc, serde_json::to_value(civic_api::openapi()).unwrap());

    let (status, headers, body) = net.call(get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(String::from_utf8(body).unwrap().contains("/openapi.json"));
}

#[tokio::test]
async fn metrics_expose_the_node_and_request_latency_by_route() {
    let net = net();
    net.get::<Value>("/v1/status").await;
    net.call(get("/v1/txs/nope")).await;
    let (status, headers, body) = net.call(get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; version=0.0.4");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("civic_height 0"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("civic_api_request_seconds_count")
            && l.contains(r#"route="/v1/status""#)
            && l.contains(r#"method="GET""#)
            && l.contains(r#"status="200""#)),
        "{text}"
    );
    assert!(text.contains(r#"route="/v1/txs/{hash}""#) && text.contains(r#"status="400""#), "{text}");
}

async fn next_sse_frame(body: &mut Body) -> String {
    let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .expect("an event")
        .unwrap()
        .unwrap();
    String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn events_stream_blocks_and_receipts() {
    let net = net();
    let res = net.app.clone().oneshot(get("/v1/events")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = res.into_body();
    let tx = net.notarize(0, "evented");
    net.node.submit(tx.clone()).unwrap();
    net.produce(false);
    let receipt = next_sse_frame(&mut body).await;
    assert!(receipt.starts_with("event: receipt\n"), "{receipt}");
    assert!(receipt.contains(&tx.hash().to_hex()) && receipt.contains(r#""status":"ok""#), "{receipt}");
    let block = next_sse_frame(&mut body).await;
    assert!(block.starts_with("event: block\n"), "{block}");
    assert!(block.contains(r#""height":1"#) && block.contains(r#""tx_count":1"#), "{block}");
}

#[tokio::test]
async fn serve_shuts_down_with_an_event_stream_open() {
    let net = net();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(civic_api::serve(listener, net.node.clone(), ApiOptions::default(), async {
        let _ = stopped.await;
    }));
    let conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = b"GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut sent = 0;
    while sent < request.len() {
        conn.writable().await.unwrap();
        sent += conn.try_write(&request[sent..]).unwrap_or(0);
    }
    let mut buf = vec![0u8; 1024];
    let n = loop {
        conn.readable().await.unwrap();
        match conn.try_read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => panic!("{e}"),
        }
    };
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    stop.send(()).unwrap();
    let done = tokio::time::timeout(Duration::from_secs(10), server).await;
    done.expect("the server stops although an event stream was open").unwrap().unwrap();
}

#[tokio::test]
async fn a_lagging_event_subscriber_is_told_what_it_missed() {
    let net = net();
    let res = net.app.clone().oneshot(get("/v1/events")).await.unwrap();
    let mut body = res.into_body();
    // The node buffers 4096 events per subscriber; this one reads nothing until 4100 blocks later.
    for _ in 0..4100 {
        net.produce(true);
    }
    let lagged = next_sse_frame(&mut body).await;
    assert!(lagged.starts_with("event: lagged\n"), "{lagged}");
    assert!(lagged.contains(r#""skipped":4"#), "{lagged}");
    let block = next_sse_frame(&mut body).await;
    assert!(block.starts_with("event: block\n") && block.contains(r#""height":5"#), "{block}");
}

#[tokio::test]
async fn license_endpoints_answer_bad_input_with_problems() {
    let net = net();
    let bad_list = get("/v1/status-lists/justice.lawyer-practice.expiry.0");
    let p = net.problem(bad_list, StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    assert!(p.detail.contains("<org>.<type-id>.<revocation|suspension>.<page>"), "{}", p.detail);
    // A well-formed id of a type nobody registered.
    net.problem(get("/v1/status-lists/justice.pilot.revocation.0"), StatusCode::NOT_FOUND, types::NOT_FOUND)
        .await;
    net.problem(get("/v1/licenses/L-1"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
    net.problem(get("/v1/licenses/L-1/credential"), StatusCode::NOT_FOUND, types::NOT_FOUND).await;
    net.problem(get("/v1/licenses?limit=0"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    net.problem(get("/v1/licenses?status=dormant"), StatusCode::BAD_REQUEST, types::INVALID_PARAMETER).await;
    let page: Value = net.get("/v1/licenses").await;
    assert_eq!(page, json!({"licenses": [], "next": null}));
    // The public answer for an unknown license: not valid, and why.
    let v: Value = net.get("/v1/licenses/L-1/verification").await;
    assert_eq!((v["valid"].as_bool(), v["status"].as_str()), (Some(false), Some("unknown")));
    // Not JSON: a problem. JSON that is no credential: a verdict with the failed check.
    let req = Request::post("/v1/credentials/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{"))
        .unwrap();
    net.problem(req, StatusCode::BAD_REQUEST, types::MALFORMED_BODY).await;
    let (status, v) = net.json(post_json("/v1/credentials/verify", &json!({"credential": [1, 2]}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((v["verdict"].as_str(), v["status"].as_str()), (Some("invalid"), Some("invalid")));
    assert_eq!(v["checks"][0]["name"], "structure");
    assert_eq!(v["checks"][0]["result"], "failed");
    assert!(v["usage_tx"].is_null(), "nothing to record for a credential that names no license");
}
