//! Where signing in may send a visitor back to: a page of this site, never
//! another site, however the address is spelled.
//!
//! `next` is resolved with a WHATWG URL parser (the `url` crate, which parses as
//! browsers do) against the site's own origin, and kept only when it stays
//! there; it is then re-serialised as path and query only, so what the browser
//! receives is exactly what was checked. Browsers silently drop tabs and
//! newlines and read `\` as `/`, so a value holding any of them is refused
//! outright, as is anything but a path (`http:x` is a path on an http site
//! and another site from an https one), and so is one whose percent-decoded spellings (up to
//! [`MAX_DECODINGS`] deep) would leave the site or hold them: some proxy or
//! later reader may decode it once more.

use percent_encoding::percent_decode_str;
use url::Url;

/// Where a refused or missing `next` lands.
pub const HOME: &str = "/";

/// How many layers of percent-encoding are looked through.
pub const MAX_DECODINGS: usize = 4;

/// Stands for the site's own origin while resolving; the real one does not
/// matter, only whether `next` stays on it.
const OWN_ORIGIN: &str = "http://clearance.invalid/";

/// The path and query of `next` when it stays on this site, or `/`.
pub fn local_path(next: Option<&str>) -> String {
    next.and_then(resolve).unwrap_or_else(|| HOME.to_owned())
}

fn resolve(next: &str) -> Option<String> {
    let own = Url::parse(OWN_ORIGIN).ok()?;
    let url = stays_home(&own, next)?;
    let mut spelled = next.to_owned();
    let mut decodings = 0;
    loop {
        let decoded = percent_decode_str(&spelled)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == spelled {
            break;
        }
        decodings += 1;
        if decodings > MAX_DECODINGS {
            return None;
        }
        stays_home(&own, &decoded)?;
        spelled = decoded;
    }
    let mut local = url.path().to_owned();
    if let Some(query) = url.query() {
        local.push('?');
        local.push_str(query);
    }
    Some(local)
}

/// `next` resolved against `own`, when it is a path (a scheme such as
/// `http:x` would resolve differently against an https origin), holds nothing
/// a browser would silently drop or rewrite, and stays on `own`'s origin.
fn stays_home(own: &Url, next: &str) -> Option<Url> {
    if !next.starts_with('/') || next.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let url = own.join(next).ok()?;
    (url.origin() == own.origin() && url.username().is_empty() && url.password().is_none())
        .then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_on_this_site_is_kept_with_its_query() {
        assert_eq!(local_path(Some("/rooms/acme")), "/rooms/acme");
        assert_eq!(
            local_path(Some("/rooms/acme/review?tab=gates&q=a%20b")),
            "/rooms/acme/review?tab=gates&q=a%20b"
        );
        assert_eq!(local_path(Some("/admin#new-invitation")), "/admin");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn every_way_out_of_the_site_lands_on_the_home_page() {
        let hostile = [
            "//evil.example",
            "//evil.example/path",
            "///evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\n/x",
            "/\\evil.example",
            "/\\/evil.example",
            "\\\\evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5C/evil.example",
            "/%5cevil.example",
            "/%2509/evil.example",
            "/%252F/evil.example",
            "/%25252F/evil.example",
            "https:x",
            "https:evil.example",
            "http:evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "HTTPS://evil.example",
            " //evil.example",
            "/\u{0}/evil.example",
            "http://clearance.invalid@evil.example/",
            "//user:pass@clearance.invalid/",
            "",
        ];
        for next in hostile {
            assert_eq!(local_path(Some(next)), "/", "next = {next:?}");
        }
    }

    #[test]
    fn more_layers_of_encoding_than_looked_through_are_refused() {
        let mut next = "/%2F/evil.example".to_owned();
        for _ in 0..MAX_DECODINGS {
            next = next.replace('%', "%25");
        }
        assert_eq!(local_path(Some(&next)), "/");
    }
}
