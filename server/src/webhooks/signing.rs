//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): a secret
//! `whsec_` + base64 of 32 random bytes; each delivery signed with
//! HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, sent as
//! `v1,<base64>`; during a rotation both secrets sign, space-separated.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new random signing secret.
pub fn new_secret() -> String {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` value: one `v1,` signature per secret that can be
/// decoded (a stored secret always can).
pub fn signature(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|secret| STANDARD.decode(secret.trim_start_matches(PREFIX)).ok())
        .map(|key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key)
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_is_prefixed_base64_of_32_bytes() {
        let secret = new_secret();
        let key = STANDARD
            .decode(secret.strip_prefix(PREFIX).unwrap())
            .unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(secret, new_secret());
    }

    /// The example of the Standard Webhooks specification's reference tests.
    #[test]
    fn signs_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn both_secrets_sign_during_a_rotation() {
        let header = signature(&[&new_secret(), &new_secret()], "msg_1", 1, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(header.split(' ').all(|part| part.starts_with("v1,")));
    }
}
