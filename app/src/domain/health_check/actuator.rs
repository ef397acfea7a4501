//! Spring Boot Actuator health (`/actuator/health`, or a group such as
//! `/actuator/health/readiness`): `status` is `UP`, `DOWN`, `OUT_OF_SERVICE`,
//! `UNKNOWN` or a custom status; `components` nests, each with its own `status`
//! (and `components` when it is a composite).

use serde_json::{Map, Value};

use super::{component_name, list_components, CheckOutcome};

/// `UP` passes, `UNKNOWN` passes with a warning (Spring itself answers it with
/// 200), `DOWN`, `OUT_OF_SERVICE` and any custom status fail. The detail names the
/// components that are not `UP`, innermost first (`db/primary DOWN`).
pub fn judge(body: &[u8]) -> Result<CheckOutcome, String> {
    let document: Value = serde_json::from_slice(body).map_err(|_| "not JSON".to_owned())?;
    let document = document
        .as_object()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    let status = status_of(document).ok_or_else(|| "no \"status\" text".to_owned())?;
    let mut unhealthy = Vec::new();
    if let Some(components) = document.get("components") {
        let components = components
            .as_object()
            .ok_or_else(|| "\"components\" is not an object".to_owned())?;
        collect_unhealthy(components, "", &mut unhealthy)?;
    }
    let detail = if unhealthy.is_empty() {
        status.clone()
    } else {
        format!("{status}: {}", list_components(&unhealthy))
    };
    Ok(match status.as_str() {
        "UP" => CheckOutcome::pass(detail),
        "UNKNOWN" => CheckOutcome::warn(detail),
        _ => CheckOutcome::fail(detail),
    })
}

fn status_of(object: &Map<String, Value>) -> Option<String> {
    object
        .get("status")
        .and_then(Value::as_str)
        .map(|status| component_name(&status.to_ascii_uppercase()))
}

/// Every component (by its path) that is not `UP` and has no unhealthy
/// component of its own to blame.
fn collect_unhealthy(
    components: &Map<String, Value>,
    prefix: &str,
    into: &mut Vec<String>,
) -> Result<(), String> {
    for (name, component) in components {
        let path = format!("{prefix}{}", component_name(name));
        let component = component
            .as_object()
            .ok_or_else(|| format!("component {path:?} is not an object"))?;
        let status =
            status_of(component).ok_or_else(|| format!("component {path:?} has no status"))?;
        let before = into.len();
        if let Some(nested) = component.get("components") {
            let nested = nested.as_object().ok_or_else(|| {
                format!("component {path:?} has \"components\" that is not an object")
            })?;
            collect_unhealthy(nested, &format!("{path}/"), into)?;
        }
        if status != "UP" && into.len() == before {
            into.push(format!("{path} {status}"));
        }
    }
    Ok(())
}
