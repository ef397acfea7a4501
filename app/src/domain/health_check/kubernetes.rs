//! The Kubernetes health endpoints' verbose text (`/readyz?verbose`, `/livez?verbose`,
//! `/healthz?verbose`): one line per check, `[+]name ok` or `[-]name failed: …`,
//! then `readyz check passed` or `readyz check failed`. Without `?verbose` a
//! passing endpoint answers just `ok`.

use super::{component_name, list_components, CheckOutcome};

/// Passes when the last line says the check passed and no line failed. The
/// detail names the failing checks, never their reasons (which may carry text
/// from the cluster).
pub fn judge(body: &[u8]) -> Result<CheckOutcome, String> {
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8 text".to_owned())?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let Some((last, checks)) = lines.split_last() else {
        return Err("an empty answer".to_owned());
    };
    if checks.is_empty() && *last == "ok" {
        return Ok(CheckOutcome::pass(
            "ok (add ?verbose to the URL to name each check)",
        ));
    }
    let passed = match last.split_once(" check ") {
        Some((_, "passed")) => true,
        Some((_, "failed")) => false,
        _ => return Err("no final \"check passed\" or \"check failed\" line".to_owned()),
    };
    let mut ok = 0usize;
    let mut failing = Vec::new();
    for (index, line) in checks.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("[+]") {
            // `[+]etcd excluded: ok` (a check the caller excluded) ends alike.
            if !rest.ends_with(" ok") {
                return Err(format!("line {} is not \"[+]name ok\"", index + 1));
            }
            ok += 1;
        } else if let Some(rest) = line.strip_prefix("[-]") {
            let (name, _reason) = rest
                .split_once(" failed")
                .ok_or_else(|| format!("line {} is not \"[-]name failed\"", index + 1))?;
            failing.push(component_name(name));
        } else {
            return Err(format!("line {} is not a check line", index + 1));
        }
    }
    Ok(match (passed, failing.is_empty()) {
        (true, true) => {
            CheckOutcome::pass(format!("{ok} check{} ok", if ok == 1 { "" } else { "s" }))
        }
        (false, false) => CheckOutcome::fail(format!("failed: {}", list_components(&failing))),
        (false, true) => CheckOutcome::fail("check failed (no failing check named)"),
        (true, false) => CheckOutcome::fail(format!(
            "says passed but lists failing: {}",
            list_components(&failing)
        )),
    })
}
