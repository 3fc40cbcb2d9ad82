//! Identifiers: UUID v4 text from an injected RNG (no uuid crate needed).

/// A random UUID v4 in its 36-character lowercase hyphenated form.
pub fn uuid_v4(rng: &mut fastrand::Rng) -> String {
    let mut b = rng.u128(..).to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 0x0f) as usize] as char);
    }
    s
}

/// A session id shaped like Graph's (`cluster=…&session=…`): it holds `=`
/// and `&`, so clients must send it verbatim in the header and percent-encode
/// it in URLs.
pub fn session_id(rng: &mut fastrand::Rng) -> String {
    format!("cluster=EMU&session={}", uuid_v4(rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let mut rng = fastrand::Rng::with_seed(7);
        let u = uuid_v4(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(u.matches('-').count(), 4);
        assert_ne!(u, uuid_v4(&mut rng));
        assert!(session_id(&mut rng).starts_with("cluster=EMU&session="));
    }
}
