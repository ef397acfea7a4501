//! The one address the public reaches this server at (`CLEARANCE_PUBLIC_URL`):
//! every absolute link is built from it, never from a request's `Host` header,
//! and its scheme decides whether the session cookie is `Secure` and whether
//! browsers are told to use https only (HSTS).

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use url::Url;

/// An absolute http(s) origin: scheme, host and port only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(Url);

/// Why a public address was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublicUrlError {
    #[error("CLEARANCE_PUBLIC_URL is not an absolute URL ({0}); give one such as https://clearance.example")]
    NotAbsolute(url::ParseError),
    #[error("CLEARANCE_PUBLIC_URL must use http or https, not {0}")]
    Scheme(String),
    #[error("CLEARANCE_PUBLIC_URL must not hold a user name or password")]
    Credentials,
    #[error("CLEARANCE_PUBLIC_URL must have no path other than /, no query and no fragment: the server is served from the root of its address")]
    NotAnOrigin,
}

impl FromStr for PublicUrl {
    type Err = PublicUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let url = Url::parse(text.trim()).map_err(PublicUrlError::NotAbsolute)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PublicUrlError::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PublicUrlError::Credentials);
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(PublicUrlError::NotAnOrigin);
        }
        Ok(Self(url))
    }
}

impl PublicUrl {
    /// The default when none is configured: plain http on the listening address.
    pub fn from_site_addr(addr: SocketAddr) -> Self {
        // An IP address and a port always make an absolute http URL.
        #[expect(clippy::unwrap_used, reason = "http://<socket address>/ always parses")]
        Self(Url::parse(&format!("http://{addr}/")).unwrap())
    }

    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// The absolute link to `path` (which starts with `/`) on this site.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.0.origin().ascii_serialization())
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.origin().ascii_serialization())
    }
}

/// Starting with an https public address and cookies declared not secure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("CLEARANCE_PUBLIC_URL is {0} (https) but CLEARANCE_SECURE_COOKIES is false: a session cookie sent without `Secure` could leak over plain http. Leave CLEARANCE_SECURE_COOKIES unset (it follows the public address) or set it to true")]
pub struct InsecureCookies(pub String);

/// Whether the session cookie is `Secure`: as configured, or else as the public
/// address's scheme says. An https address with cookies explicitly not secure is
/// refused.
pub fn secure_cookies(
    public: Option<&PublicUrl>,
    configured: Option<bool>,
) -> Result<bool, InsecureCookies> {
    let https = public.is_some_and(PublicUrl::is_https);
    match configured {
        Some(false) if https => Err(InsecureCookies(
            public.map(ToString::to_string).unwrap_or_default(),
        )),
        Some(secure) => Ok(secure),
        None => Ok(https),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_accepted_and_links_are_built_on_it() {
        let public: PublicUrl = "https://clearance.example".parse().expect("valid");
        assert!(public.is_https());
        assert_eq!(
            public.link("/invite/abc"),
            "https://clearance.example/invite/abc"
        );
        let public: PublicUrl = "http://127.0.0.1:3100/".parse().expect("valid");
        assert!(!public.is_https());
        assert_eq!(public.link("/x"), "http://127.0.0.1:3100/x");
    }

    #[test]
    fn anything_but_an_http_origin_is_refused() {
        for bad in [
            "clearance.example",
            "/relative",
            "ftp://clearance.example",
            "javascript:alert(1)",
            "https://clearance.example/app",
            "https://clearance.example/?a=b",
            "https://clearance.example/#top",
            "https://user:pass@clearance.example",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_is_plain_http_on_the_listening_address() {
        let public = PublicUrl::from_site_addr("127.0.0.1:3000".parse().expect("valid"));
        assert_eq!(public.to_string(), "http://127.0.0.1:3000");
    }

    #[test]
    fn cookies_follow_the_public_scheme_and_an_https_site_refuses_insecure_ones() {
        let https: PublicUrl = "https://clearance.example".parse().expect("valid");
        let http: PublicUrl = "http://clearance.example".parse().expect("valid");
        assert_eq!(secure_cookies(Some(&https), None), Ok(true));
        assert_eq!(secure_cookies(Some(&https), Some(true)), Ok(true));
        assert!(secure_cookies(Some(&https), Some(false)).is_err());
        assert_eq!(secure_cookies(Some(&http), None), Ok(false));
        assert_eq!(secure_cookies(Some(&http), Some(true)), Ok(true));
        assert_eq!(secure_cookies(None, None), Ok(false));
        assert_eq!(secure_cookies(None, Some(true)), Ok(true));
    }
}
