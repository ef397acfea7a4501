//! `GET /api/openapi.json`: an OpenAPI 3.1 description of the whole JSON API.
//! A test checks that every JSON route the router serves is described here.

use axum::Json;
use serde_json::{json, Value};

/// Every path the document describes, as the router spells it.
pub const PATHS: [&str; 9] = [
    "/api/readiness",
    "/api/events",
    "/api/proofs/{proof_id}/runs",
    "/api/platform/launch-acceptance",
    "/api/platform/launch-room",
    "/api/platform/launch-dossier",
    "/api/product/{pack}",
    "/badge/{file}",
    "/api/openapi.json",
];

fn error_responses(codes: &[&str]) -> Value {
    let mut responses = serde_json::Map::new();
    for code in codes {
        responses.insert(
            (*code).to_owned(),
            json!({
                "description": match *code {
                    "400" => "Malformed JSON, wrong types, unknown fields or a bad query",
                    "401" => "No session and no bearer token, or an unknown token",
                    "403" => "The caller's role may not do this (logged)",
                    "404" => "Unknown, or not visible to the caller (logged)",
                    "413" => "Body larger than the limit (64 KiB)",
                    "422" => "A rule broken; `fields` names every problem",
                    "503" => "Not available (database down, or no CI token configured)",
                    _ => "Error",
                },
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
            }),
        );
    }
    Value::Object(responses)
}

fn with_errors(mut ok: Value, codes: &[&str]) -> Value {
    if let (Some(ok), Value::Object(errors)) = (ok.as_object_mut(), error_responses(codes)) {
        ok.extend(errors);
    }
    ok
}

/// The whole document.
pub fn document() -> Value {
    let tenant = json!({
        "name": "tenant", "in": "query", "required": false, "schema": { "type": "string" },
        "description": "Tenant slug. Buyer sponsors default to (and may only name) their own tenant; operators and commercial owners must name one."
    });
    let limit = json!({
        "name": "limit", "in": "query", "required": false,
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": app::domain::chain_page::MAX_PAGE_RECORDS,
            "default": app::domain::chain_page::DEFAULT_PAGE_RECORDS
        },
        "description": "Records per page; 400 outside the range."
    });
    let before = |name: &str, chain: &str| {
        json!({
            "name": name, "in": "query", "required": false,
            "schema": { "type": "integer", "minimum": 1 },
            "description": format!("Only {chain} with a lower seq: the previous answer's next-before cursor. Absent: from the newest. 400 below 1.")
        })
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Clearance",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The live launch clearance register: readiness, proof runs, evidence packs, launch rooms and signed launch acceptance. Only dependency names ever appear, never values."
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "A per-account token (`server token create`), or CLEARANCE_API_TOKEN for recording proof runs." },
                "session": { "type": "apiKey", "in": "cookie", "name": "clearance_session" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": { "type": "string" },
                        "field": { "type": ["string", "null"] },
                        "fields": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } }
                    }
                },
                "ProofRunRequest": {
                    "type": "object", "additionalProperties": false, "required": ["status", "actor"],
                    "properties": {
                        "status": { "enum": ["passed", "failed"] },
                        "actor": { "type": "string", "minLength": 1, "maxLength": 200 },
                        "ran_at": { "type": "string", "format": "date-time" },
                        "output_digest": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                        "excerpt": { "type": "string", "maxLength": 2000 }
                    }
                },
                "AcceptanceForm": {
                    "type": "object", "additionalProperties": false,
                    "required": ["signer_name", "signer_role", "approval_reference", "readiness_digest"],
                    "properties": {
                        "signer_name": { "type": "string", "minLength": 1, "maxLength": 200 },
                        "signer_role": { "type": "string", "minLength": 1, "maxLength": 200 },
                        "approval_reference": { "type": "string", "minLength": 1, "maxLength": 200 },
                        "exclusions": { "type": "array", "items": { "type": "string" }, "description": "Ids of live blockers the motion allows to be scoped out" },
                        "residual_risks": { "type": "string", "maxLength": 4000 },
                        "readiness_digest": { "type": "string", "description": "From GET; the signature is refused if readiness changed since" }
                    }
                },
                "Revocation": {
                    "type": "object", "additionalProperties": false, "required": ["revoke"],
                    "properties": { "revoke": {
                        "type": "object", "additionalProperties": false, "required": ["signer_name", "signer_role", "reason"],
                        "properties": {
                            "signer_name": { "type": "string" }, "signer_role": { "type": "string" },
                            "reason": { "type": "string", "minLength": 1, "maxLength": 4000 }
                        }
                    } }
                },
                "AcceptanceRecord": {
                    "type": "object",
                    "properties": {
                        "seq": { "type": "integer" }, "kind": { "enum": ["accepted", "revoked"] },
                        "motion": { "type": "string" }, "signer_name": { "type": "string" },
                        "signer_role": { "type": "string" }, "approval_reference": { "type": "string" },
                        "exclusions": { "type": "array", "items": { "type": "string" } },
                        "residual_risks": { "type": "string" }, "readiness_digest": { "type": "string" },
                        "open_blockers": { "type": "array", "items": { "type": "string" } },
                        "actor": { "type": "string" }, "signed_at": { "type": "string", "format": "date-time" },
                        "digest": { "type": "string", "description": "SHA-256 of the record's canonical encoding, chained to the previous record" }
                    }
                }
            }
        },
        "paths": {
            "/api/readiness": { "get": {
                "summary": "The readiness document (format clearance.readiness/1)",
                "parameters": [
                    { "name": "strict", "in": "query", "schema": { "type": "boolean" } },
                    { "name": "motion", "in": "query", "schema": { "type": "string" } }
                ],
                "responses": with_errors(json!({ "200": { "description": "Ready in the asked mode" }, "503": { "description": "Not ready; `reasons` says why" } }), &["400", "404"])
            } },
            "/api/events": { "get": {
                "summary": "Server-sent events: `live`, the live state, at once and on every change",
                "responses": { "200": { "description": "text/event-stream" } }
            } },
            "/api/proofs/{proof_id}/runs": {
                "parameters": [{ "name": "proof_id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "get": {
                    "summary": "The proof's newest runs",
                    "parameters": [{ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 100 } }],
                    "responses": with_errors(json!({ "200": { "description": "Runs, newest first" } }), &["400", "404"])
                },
                "post": {
                    "summary": "Record a proof run",
                    "security": [{ "bearer": [] }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ProofRunRequest" } } } },
                    "responses": with_errors(json!({ "201": { "description": "The stored run" } }), &["400", "401", "404", "413", "422", "503"])
                }
            },
            "/api/platform/launch-acceptance": {
                "get": {
                    "summary": "A tenant's launch acceptance: state, readiness digest, current record and one page of the history, newest first, with `next_before` for the next older page (format clearance.launch-acceptance/1)",
                    "security": [{ "bearer": [] }, { "session": [] }],
                    "parameters": [tenant.clone(), limit.clone(), before("before", "acceptance records")],
                    "responses": with_errors(json!({ "200": { "description": "The acceptance document" } }), &["400", "401", "404"])
                },
                "patch": {
                    "summary": "Sign (or revoke) the caller's tenant's launch acceptance; buyer sponsors only",
                    "security": [{ "bearer": [] }, { "session": [] }],
                    "parameters": [tenant.clone()],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "oneOf": [
                        { "$ref": "#/components/schemas/AcceptanceForm" }, { "$ref": "#/components/schemas/Revocation" }
                    ] } } } },
                    "responses": with_errors(json!({ "200": { "description": "The stored record", "content": { "application/json": { "schema": { "type": "object", "properties": {
                        "format": { "type": "string" }, "tenant": { "type": "string" }, "record": { "$ref": "#/components/schemas/AcceptanceRecord" }
                    } } } } } }), &["400", "401", "403", "404", "413", "422"])
                }
            },
            "/api/platform/launch-room": { "get": {
                "summary": "A tenant's launch room: state, the motion's status for the tenant, gates with their evidence, and one page of each chain in chain order, `acceptance_records` and `evidence_changes`, each with its `…_next_before` cursor (format clearance.launch-room/1)",
                "security": [{ "bearer": [] }, { "session": [] }],
                "parameters": [tenant, limit, before("before", "acceptance records"), before("evidence_before", "evidence changes")],
                "responses": with_errors(json!({ "200": { "description": "The launch room document" } }), &["400", "401", "404"])
            } },
            "/api/platform/launch-dossier": { "get": {
                "summary": "A tenant's launch dossier (format clearance.dossier/1): parts register, launch_room, evidence, proof_runs, acceptance_chain (with its verification), and a manifest of each part's SHA-256 over its canonical JSON (sorted keys, compact). Check one with `server dossier verify FILE`.",
                "security": [{ "bearer": [] }, { "session": [] }],
                "parameters": [
                    { "name": "tenant", "in": "query", "schema": { "type": "string" } },
                    { "name": "download", "in": "query", "schema": { "enum": [1] }, "description": "1: answer as a file (Content-Disposition: attachment)" }
                ],
                "responses": with_errors(json!({ "200": { "description": "The dossier" } }), &["400", "401", "404"])
            } },
            "/api/product/{pack}": { "get": {
                "summary": "A public-safe evidence pack (format clearance.pack/1)",
                "parameters": [{ "name": "pack", "in": "path", "required": true, "schema": { "enum": crate::api::packs::PRODUCT_PACKS } }],
                "responses": with_errors(json!({ "200": { "description": "The pack" } }), &["404"])
            } },
            "/badge/{file}": { "get": {
                "summary": "A status badge: `<motion id>.svg` or `strict.svg`; cacheable for 60 s",
                "parameters": [{ "name": "file", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": with_errors(json!({ "200": { "description": "image/svg+xml" } }), &["404"])
            } },
            "/api/openapi.json": { "get": {
                "summary": "This document",
                "responses": { "200": { "description": "OpenAPI 3.1" } }
            } }
        }
    })
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Json<Value> {
    Json(document())
}
