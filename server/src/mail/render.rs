//! What a mail says: its subject and its plain-text and HTML bodies, each with
//! the link to the page and the unsubscribe link. Everything that comes from
//! data (names, reasons, links) is escaped in the HTML body.

use chrono::{DateTime, Utc};
use serde_json::Value;

use app::domain::events::{Event, EventType};

/// A mail's subject and bodies.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The longest subject, in characters (the queue's limit is 300).
const SUBJECT_CHARS: usize = 200;

/// `text` with the five characters HTML gives meaning to escaped: safe in
/// element content and in double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn subject(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SUBJECT_CHARS)
        .collect();
    format!("[Clearance] {line}")
}

/// The lines that explain an event beyond its one-line summary.
fn details(event: &Event) -> Vec<(String, String)> {
    let text = |key: &str| {
        event
            .data
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let list = |key: &str| -> Vec<String> {
        event
            .data
            .get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    match event.kind {
        EventType::MotionStatusChanged => {
            for reason in list("reasons") {
                lines.push(("Why".to_owned(), reason));
            }
        }
        EventType::AcceptanceStale => {
            lines.push(("Tenant".to_owned(), text("tenant_name")));
            lines.push((
                "What changed since the signature".to_owned(),
                text("reason"),
            ));
            lines.push((
                "What to do".to_owned(),
                "Review the launch room and sign again if the launch still stands.".to_owned(),
            ));
        }
        EventType::BlockerLive | EventType::BlockerCleared => {
            let fallback = text("fallback");
            if !fallback.is_empty() {
                lines.push(("Fallback".to_owned(), fallback));
            }
        }
        _ => {}
    }
    lines.retain(|(_, value)| !value.is_empty());
    lines
}

/// The mail for one event, sent because of the subscription `because`.
pub fn event_mail(
    event: &Event,
    public_url: &str,
    unsubscribe_url: &str,
    because: &str,
) -> Rendered {
    let summary = event.summary();
    let link = event.url(public_url);
    let when = when(event.occurred_at);
    let details = details(event);
    let mut text = format!("{summary}\n\n");
    for (label, value) in &details {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str(&format!(
        "When: {when}\nEvent: {} ({})\n\nOpen in Clearance: {link}\n\n-- \n\
         You receive this because you subscribed to {because}.\n\
         Unsubscribe: {unsubscribe_url}\n",
        event.kind.label(),
        event.id
    ));
    let mut rows = String::new();
    for (label, value) in &details {
        rows.push_str(&format!(
            "<tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">{}</th><td>{}</td></tr>\n",
            escape(label),
            escape(value)
        ));
    }
    let html = page(
        &summary,
        &format!(
            "<table>\n{rows}<tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">When</th><td>{}</td></tr>\n\
             <tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">Event</th><td>{} (<code>{}</code>)</td></tr>\n</table>\n\
             <p><a href=\"{}\">Open in Clearance</a></p>\n",
            escape(&when),
            escape(event.kind.label()),
            escape(&event.id),
            escape(&link)
        ),
        &format!("You receive this because you subscribed to {}.", escape(because)),
        unsubscribe_url,
    );
    Rendered {
        subject: subject(&summary),
        text,
        html,
    }
}

/// The mail that carries an invitation link to the invited address.
pub fn invitation_mail(
    tenant_name: &str,
    link: &str,
    expires_at: DateTime<Utc>,
    unsubscribe_url: &str,
) -> Rendered {
    let expires = when(expires_at);
    let heading = format!("You are invited to sign {tenant_name}'s launch acceptance");
    let text = format!(
        "{heading}\n\n\
         You are invited to Clearance as the buyer sponsor of {tenant_name}. Open this link \
         to choose your name and password; it works once and expires {expires}:\n\n{link}\n\n\
         If you did not expect this invitation, ignore this mail.\n\n-- \n\
         Not wanted? Stop invitation mail to this address: {unsubscribe_url}\n"
    );
    let html = page(
        &heading,
        &format!(
            "<p>You are invited to Clearance as the buyer sponsor of <strong>{}</strong>. \
             The link works once and expires {}.</p>\n\
             <p><a href=\"{}\">Accept the invitation</a></p>\n\
             <p>Or copy this address into your browser: <code>{}</code></p>\n\
             <p>If you did not expect this invitation, ignore this mail.</p>\n",
            escape(tenant_name),
            escape(&expires),
            escape(link),
            escape(link)
        ),
        "Not wanted? Stop invitation mail to this address.",
        unsubscribe_url,
    );
    Rendered {
        subject: subject(&format!("Invitation to {tenant_name}'s launch room")),
        text,
        html,
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A whole HTML document: heading, body, and the footer with the unsubscribe link.
/// `heading` is text; `body` and `footer` are HTML already escaped.
fn page(heading: &str, body: &str, footer: &str, unsubscribe_url: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.5\">\n<h1 style=\"font-size:1.25em\">{title}</h1>\n{body}\
         <hr>\n<p style=\"font-size:0.9em;color:#555\">{footer} <a href=\"{unsubscribe}\">Unsubscribe</a></p>\n</body>\n</html>\n",
        title = escape(heading),
        unsubscribe = escape(unsubscribe_url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_from_data_are_escaped_in_html_and_plain_in_text() {
        let event = Event {
            id: "evt_1".to_owned(),
            kind: EventType::AcceptanceStale,
            tenant_id: Some(1),
            motion: Some("managed-private-beta".to_owned()),
            occurred_at: Utc::now(),
            path: "/rooms/acme".to_owned(),
            data: json!({"tenant_name": "<script>alert(1)</script> & Co", "reason": "x \"changed\""}),
        };
        let mail = event_mail(
            &event,
            "https://c.example",
            "https://c.example/unsubscribe/t",
            "this",
        );
        assert!(mail
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.text.contains("<script>alert(1)</script> & Co"));
        assert!(mail
            .text
            .contains("Unsubscribe: https://c.example/unsubscribe/t"));
        assert!(mail
            .html
            .contains("href=\"https://c.example/unsubscribe/t\""));
        assert!(mail.subject.starts_with("[Clearance] "));
        assert!(!mail.subject.contains('\n'));
    }
}
