//! Status badges: a small SVG naming a launch motion (or strict readiness) and its
//! status, for wikis and READMEs. Pure: text in, SVG out, every text escaped.

use super::evaluation::{MotionStatus, Readiness};

/// The colour and word of a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tone {
    pub word: &'static str,
    pub colour: &'static str,
}

impl From<MotionStatus> for Tone {
    fn from(status: MotionStatus) -> Self {
        let colour = match status {
            MotionStatus::Clear => "#1a7f37",
            MotionStatus::Conditional => "#9a6700",
            MotionStatus::Blocked => "#cf222e",
        };
        Self {
            word: status.as_str(),
            colour,
        }
    }
}

impl From<Readiness> for Tone {
    fn from(readiness: Readiness) -> Self {
        let colour = match readiness {
            Readiness::Ready => "#1a7f37",
            Readiness::Degraded => "#9a6700",
            Readiness::NotReady => "#cf222e",
        };
        Self {
            word: readiness.as_str(),
            colour,
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Width in pixels of `text` at 11px Verdana, near enough for a badge: wide
/// letters count more.
fn text_width(text: &str) -> u32 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | '\'' | ' ' => 4,
            'm' | 'w' | 'M' | 'W' => 10,
            c if c.is_uppercase() => 8,
            _ => 7,
        })
        .sum()
}

/// A two-part badge: `label` on grey, the status on its colour.
pub fn badge_svg(label: &str, tone: Tone) -> String {
    let (label_text, word) = (escape(label), escape(tone.word));
    let left = text_width(label) + 12;
    let right = text_width(tone.word) + 12;
    let width = left + right;
    let title = format!("{label_text}: {word}");
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{title}"><title>{title}</title><rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" fill="{colour}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="14">{label_text}</text><text x="{rx}" y="14">{word}</text></g></svg>"##,
        colour = tone.colour,
        lx = left / 2,
        rx = left + right / 2,
    )
}
