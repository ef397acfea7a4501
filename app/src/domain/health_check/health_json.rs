//! `application/health+json` (draft-inadarei-api-health-check): a top-level
//! `status` of `pass`, `warn` or `fail` (with the aliases `ok` / `up` and
//! `error` / `down`), and `checks`: a map from `componentName:measurementName` to
//! an array of check results, each with its own `status`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{component_name, list_components, CheckOutcome};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Pass,
    Warn,
    Fail,
}

fn status(text: &str) -> Option<Status> {
    match text.to_ascii_lowercase().as_str() {
        "pass" | "ok" | "up" => Some(Status::Pass),
        "warn" => Some(Status::Warn),
        "fail" | "error" | "down" => Some(Status::Fail),
        _ => None,
    }
}

/// The top-level status decides (`warn` passes with a warning); the detail names
/// the checks that warn or fail. `output`, `notes` and every observed value stay
/// unread: they are free text from the service.
pub fn judge(body: &[u8]) -> Result<CheckOutcome, String> {
    let document: Value = serde_json::from_slice(body).map_err(|_| "not JSON".to_owned())?;
    let document = document
        .as_object()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    let top = document
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| "no \"status\" text".to_owned())?;
    let top = status(top)
        .ok_or_else(|| format!("status {:?} is not pass, warn or fail", component_name(top)))?;
    let mut flagged = BTreeSet::new();
    if let Some(checks) = document.get("checks") {
        let checks = checks
            .as_object()
            .ok_or_else(|| "\"checks\" is not an object".to_owned())?;
        for (name, results) in checks {
            let name = component_name(name);
            // The draft says an array; a lone object is read as one result.
            let results = match results {
                Value::Array(results) => results.clone(),
                Value::Object(_) => vec![results.clone()],
                _ => return Err(format!("check {name:?} is not an array")),
            };
            for result in &results {
                let Some(text) = result.get("status").and_then(Value::as_str) else {
                    continue;
                };
                match status(text) {
                    Some(Status::Pass) => {}
                    Some(Status::Warn) => {
                        flagged.insert(format!("{name} warn"));
                    }
                    Some(Status::Fail) => {
                        flagged.insert(format!("{name} fail"));
                    }
                    None => return Err(format!("check {name:?} has an unknown status")),
                }
            }
        }
    }
    let word = match top {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Fail => "fail",
    };
    let flagged: Vec<String> = flagged.into_iter().collect();
    let detail = if flagged.is_empty() {
        word.to_owned()
    } else {
        format!("{word}: {}", list_components(&flagged))
    };
    Ok(match top {
        Status::Pass => CheckOutcome::pass(detail),
        Status::Warn => CheckOutcome::warn(detail),
        Status::Fail => CheckOutcome::fail(detail),
    })
}
