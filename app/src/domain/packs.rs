//! The evidence packs this server serves, in the pure domain so that a register
//! file can be refused when it lists a pack nobody could open.

/// The public packs, by the last segment of their path under
/// [`PRODUCT_PACK_PREFIX`].
pub const PRODUCT_PACKS: [&str; 8] = [
    "managed-beta-readiness",
    "production-proof",
    "launch-evidence",
    "customer-launch-room",
    "operations-evidence",
    "procurement-evidence",
    "security-assurance",
    "provisioning-guides",
];

/// Where the public packs live.
pub const PRODUCT_PACK_PREFIX: &str = "/api/product/";

/// The authenticated, tenant-scoped packs.
pub const PLATFORM_PACKS: [&str; 2] = ["/api/platform/launch-room", "/api/platform/launch-dossier"];

/// Whether the server answers `path`. A query string (`?download=1`) is the
/// pack's own business and does not change which pack it is.
pub fn is_servable(path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    PLATFORM_PACKS.contains(&path)
        || path
            .strip_prefix(PRODUCT_PACK_PREFIX)
            .is_some_and(|pack| PRODUCT_PACKS.contains(&pack))
}

/// Every pack path the server answers, for error messages.
pub fn servable_paths() -> Vec<String> {
    PRODUCT_PACKS
        .iter()
        .map(|pack| format!("{PRODUCT_PACK_PREFIX}{pack}"))
        .chain(PLATFORM_PACKS.iter().map(|path| (*path).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{is_servable, servable_paths};

    #[test]
    fn only_the_packs_the_server_builds_are_servable() {
        assert!(is_servable("/api/product/production-proof"));
        assert!(is_servable("/api/platform/launch-room"));
        assert!(is_servable("/api/platform/launch-dossier?download=1"));
        for unserved in [
            "/api/product/",
            "/api/product/production-proofs",
            "/api/product/production-proof/extra",
            "/api/platform/launch-acceptance",
            "/api/readiness",
            "/packs/production-proof",
        ] {
            assert!(!is_servable(unserved), "{unserved}");
        }
        assert_eq!(servable_paths().len(), 10);
        assert!(servable_paths().iter().all(|path| is_servable(path)));
    }
}
