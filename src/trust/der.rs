//! Just enough DER to read an RSA public key's size out of a
//! SubjectPublicKeyInfo, so a key too weak to trust is refused when the
//! configuration is read rather than accepted silently (WebCrypto imports a
//! 512-bit key without complaint); and to write one from a JWK's modulus
//! and exponent (Cloudflare Access publishes its keys so).
//!
//! ```text
//! SubjectPublicKeyInfo ::= SEQUENCE {
//!   algorithm  SEQUENCE { OBJECT IDENTIFIER rsaEncryption, NULL },
//!   subjectPublicKey  BIT STRING  -- 0 unused bits, then:
//!     RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } }
//! ```

/// 1.2.840.113549.1.1.1, as DER content octets.
const RSA_ENCRYPTION: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OBJECT_IDENTIFIER: u8 = 0x06;
const NULL: u8 = 0x05;

/// Why a key's size cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Not DER as a SubjectPublicKeyInfo has it.
    Malformed,
    /// A SubjectPublicKeyInfo of another algorithm (EC, Ed25519, …).
    NotRsa,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyError::Malformed => "the key is not a DER SubjectPublicKeyInfo",
            KeyError::NotRsa => "the key is not an RSA key (sipgate signs with RSA)",
        })
    }
}

/// The size in bits of the RSA modulus in `spki`.
pub fn rsa_modulus_bits(spki: &[u8]) -> Result<usize, KeyError> {
    let (info, _) = element(spki, SEQUENCE)?;
    let (algorithm, rest) = element(info, SEQUENCE)?;
    let (oid, _) = element(algorithm, OBJECT_IDENTIFIER)?;
    if oid != RSA_ENCRYPTION {
        return Err(KeyError::NotRsa);
    }
    let (bits, _) = element(rest, BIT_STRING)?;
    let key = match bits.split_first() {
        Some((0, key)) => key,
        _ => return Err(KeyError::Malformed),
    };
    let (rsa, _) = element(key, SEQUENCE)?;
    let (modulus, _) = element(rsa, INTEGER)?;
    // Unsigned magnitude: skip the sign octet(s), then count the bits.
    let magnitude = match modulus.iter().position(|&byte| byte != 0) {
        Some(first) => modulus.get(first..).unwrap_or_default(),
        None => return Err(KeyError::Malformed),
    };
    let leading = magnitude
        .first()
        .map_or(0, |byte| byte.leading_zeros() as usize);
    Ok(magnitude.len() * 8 - leading)
}

/// The SubjectPublicKeyInfo of the RSA key with `modulus` and `exponent`
/// (unsigned big-endian, as a JWK's `n` and `e`).
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let rsa_key = encoded(SEQUENCE, &[integer(modulus), integer(exponent)].concat());
    let algorithm = encoded(
        SEQUENCE,
        &[encoded(OBJECT_IDENTIFIER, &RSA_ENCRYPTION), vec![NULL, 0]].concat(),
    );
    let bits = encoded(BIT_STRING, &[&[0][..], &rsa_key].concat());
    encoded(SEQUENCE, &[algorithm, bits].concat())
}

/// A non-negative INTEGER: leading zeros dropped, one added when the high
/// bit is set (DER integers are signed).
fn integer(magnitude: &[u8]) -> Vec<u8> {
    let first = magnitude.iter().position(|&byte| byte != 0);
    let trimmed = first
        .and_then(|first| magnitude.get(first..))
        .unwrap_or(&[0]);
    let content = if trimmed.first().is_some_and(|byte| byte & 0x80 != 0) {
        [&[0][..], trimmed].concat()
    } else {
        trimmed.to_vec()
    };
    encoded(INTEGER, &content)
}

/// Tag, definite length, content.
fn encoded(tag: u8, content: &[u8]) -> Vec<u8> {
    let length = content.len();
    let mut out = vec![tag];
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let octets: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|&octet| octet == 0)
            .collect();
        out.push(0x80 | octets.len() as u8);
        out.extend(octets);
    }
    out.extend_from_slice(content);
    out
}

/// The content of the element at the start of `input`, which must have
/// tag `tag`, and what follows it.
fn element(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), KeyError> {
    let (&found, rest) = input.split_first().ok_or(KeyError::Malformed)?;
    if found != tag {
        return Err(KeyError::Malformed);
    }
    let (&first, rest) = rest.split_first().ok_or(KeyError::Malformed)?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // Long form: the low bits say how many length octets follow.
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(KeyError::Malformed);
        }
        let (octets, rest) = rest.split_at(count);
        let length = octets
            .iter()
            .fold(0usize, |length, &octet| (length << 8) | usize::from(octet));
        (length, rest)
    };
    if rest.len() < length {
        return Err(KeyError::Malformed);
    }
    Ok(rest.split_at(length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::keys::{EC_P256, RSA_2047, RSA_2048, RSA_512};
    use crate::trust::access::{spki_der, SIPGATE_PUBLIC_KEY};

    #[test]
    fn a_key_written_from_its_modulus_and_exponent_is_the_pem_s_der() {
        // sipgate's own key: read its modulus and exponent, write them again.
        let der = spki_der(SIPGATE_PUBLIC_KEY).unwrap();
        let (info, _) = element(&der, SEQUENCE).unwrap();
        let (_, rest) = element(info, SEQUENCE).unwrap();
        let (bits, _) = element(rest, BIT_STRING).unwrap();
        let (rsa, _) = element(bits.get(1..).unwrap(), SEQUENCE).unwrap();
        let (modulus, rest) = element(rsa, INTEGER).unwrap();
        let (exponent, _) = element(rest, INTEGER).unwrap();
        assert_eq!(rsa_spki(modulus, exponent), der, "with the sign octet");
        assert_eq!(
            rsa_spki(modulus.get(1..).unwrap(), exponent),
            der,
            "without it"
        );
    }

    fn bits(pem: &str) -> Result<usize, KeyError> {
        rsa_modulus_bits(&spki_der(pem).unwrap())
    }

    #[test]
    fn reads_the_modulus_size_of_rsa_keys() {
        assert_eq!(bits(SIPGATE_PUBLIC_KEY), Ok(4096));
        assert_eq!(bits(RSA_2048), Ok(2048));
        assert_eq!(bits(RSA_2047), Ok(2047));
        assert_eq!(bits(RSA_512), Ok(512));
        assert_eq!(bits(EC_P256), Err(KeyError::NotRsa));
    }

    #[test]
    fn refuses_what_is_not_der() {
        let der = spki_der(SIPGATE_PUBLIC_KEY).unwrap();
        for cut in [0, 1, 2, 10, 30, der.len() - 1] {
            assert_eq!(
                rsa_modulus_bits(der.get(..cut).unwrap()),
                Err(KeyError::Malformed),
                "cut at {cut}"
            );
        }
        assert_eq!(
            rsa_modulus_bits(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            Err(KeyError::Malformed)
        );
        assert_eq!(rsa_modulus_bits(&[0x30, 0x80]), Err(KeyError::Malformed));
    }
}
