//! Standard base64 (RFC 4648 §4, with padding), strict.
//!
//! Signatures (`X-Sipgate-Signature`), PEM keys and basic-auth credentials
//! arrive in base64. A crate would do, but the decoder is a screenful, and
//! strictness matters here: anything but canonical base64 is refused, so a
//! mangled signature is a clear 403, not bytes that happen to decode.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn value(symbol: u8) -> Option<u32> {
    match symbol {
        b'A'..=b'Z' => Some(u32::from(symbol - b'A')),
        b'a'..=b'z' => Some(u32::from(symbol - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(symbol - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes padded base64; `None` for any other input (wrong length,
/// characters outside the alphabet, non-zero padding bits).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.chunks_exact(4);
    let last = quads.len().checked_sub(1);
    for (index, quad) in quads.enumerate() {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && Some(index) != last) {
            return None;
        }
        let mut group = 0u32;
        for &symbol in quad.iter().take(4 - padding) {
            group = group << 6 | value(symbol)?;
        }
        group <<= 6 * padding as u32;
        let [_, a, b, c] = group.to_be_bytes();
        match padding {
            0 => out.extend_from_slice(&[a, b, c]),
            1 if c == 0 => out.extend_from_slice(&[a, b]),
            2 if b == 0 && c == 0 => out.push(a),
            _ => return None, // bits set under the padding: not canonical
        }
    }
    Some(out)
}

/// Encodes with padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |group, (index, byte)| {
            group | u32::from(*byte) << (16 - 8 * index)
        });
        for index in 0..4 {
            if index <= chunk.len() {
                let symbol = ALPHABET
                    .get((group >> (18 - 6 * index) & 63) as usize)
                    .copied()
                    .unwrap_or(b'=');
                out.push(char::from(symbol));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
    }

    #[test]
    fn refuses_anything_but_canonical_padded_base64() {
        for bad in [
            "Zg", "Zg=", "Zm9v\n", "Zm 9v", "Zh==", "Zm9=", "Z===", "Zg==Zm9v", "Zm9v!A==", "-_8=",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
