//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs' types, so it
//! cannot drift from what the code accepts and returns.

use utoipa::OpenApi;

use crate::dto;
use crate::routes::{chain, dids, events, identity, licenses, membership, meta, state, supervision, txs};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Civic Ledger node API",
        description = "REST API of a Civic Ledger node. Hashes, keys and signatures are hex; raw bytes are base64; \
                       times are Unix milliseconds. Every error is an RFC 9457 `application/problem+json` document \
                       whose `type` URI is stable.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        chain::status,
        chain::list_blocks,
        chain::get_block,
        chain::block_log,
        chain::block_log_inclusion,
        chain::block_log_consistency,
        txs::submit_tx,
        txs::submit_batch,
        txs::get_tx,
        txs::get_tx_proof,
        state::get_state,
        membership::organizations,
        membership::accounts,
        membership::proposals,
        membership::proposal,
        membership::nonce,
        membership::nonce_by_parts,
        events::events,
        dids::resolve,
        identity::access_log,
        identity::consents,
        identity::attest,
        identity::read_attributes,
        identity::new_challenge,
        identity::answer_challenge,
        licenses::list,
        licenses::show,
        licenses::usage,
        licenses::credential,
        licenses::public_verification,
        licenses::status_list,
        licenses::verify_credential,
        supervision::cases,
        supervision::case,
        supervision::day,
        supervision::devices,
        supervision::positions,
        supervision::proof,
        supervision::alerts,
        supervision::alert,
        meta::landing,
        meta::openapi_json,
        meta::metrics,
    ),
    components(schemas(dto::Problem, dto::BlockEventDto, dto::ReceiptEventDto, dto::LaggedEventDto)),
    tags(
        (name = "chain", description = "Status and blocks"),
        (name = "transactions", description = "Submitting and reading transactions, inclusion proofs"),
        (name = "state", description = "State values with Merkle proofs"),
        (name = "membership", description = "Organizations, accounts, governance, nonces"),
        (name = "events", description = "Server-sent events"),
        (name = "identity", description = "DIDs (did:key, did:civic)"),
        (name = "licenses", description = "Licenses, W3C Verifiable Credentials, status lists, verification"),
        (name = "supervision", description = "Community supervision: cases, zones, devices, positions with anchoring proofs, alerts, daily summaries"),
        (name = "meta", description = "Landing page, this document, metrics"),
    )
)]
struct ApiDoc;

/// The OpenAPI 3.1 document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
