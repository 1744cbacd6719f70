//! RFC 4648 base32 (upper case, no padding): its 32 characters are all in the QR code's
//! alphanumeric mode, so a code packs 5.5 bits of QR per 5 bits of payload.
//!
//! Decoding is canonical: one text for each byte string. Lower case, padding, other characters
//! and non-zero bits past the last byte are refused, so changing any character of a code changes
//! its bytes or makes it unreadable.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why a text is not canonical base32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base32Error {
    /// The character at this index is not in the alphabet.
    Character { at: usize },
    /// No byte string encodes to this many characters (1, 3 or 6 modulo 8).
    Length,
    /// The last character carries bits past the last byte that are not zero.
    TrailingBits,
}

pub fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(char::from(ALPHABET[usize::from((buffer >> bits) & 31)]));
        }
    }
    if bits > 0 {
        text.push(char::from(
            ALPHABET[usize::from((buffer << (5 - bits)) & 31)],
        ));
    }
    text
}

fn value(character: u8) -> Option<u16> {
    match character {
        b'A'..=b'Z' => Some(u16::from(character - b'A')),
        b'2'..=b'7' => Some(u16::from(character - b'2' + 26)),
        _ => None,
    }
}

pub fn decode(text: &[u8]) -> Result<Vec<u8>, Base32Error> {
    if matches!(text.len() % 8, 1 | 3 | 6) {
        return Err(Base32Error::Length);
    }
    let mut bytes = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for (at, &character) in text.iter().enumerate() {
        let value = value(character).ok_or(Base32Error::Character { at })?;
        buffer = ((buffer << 5) | value) & 0x0fff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    if buffer & ((1 << bits) - 1) != 0 {
        return Err(Base32Error::TrailingBits);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4648_test_vectors_without_padding() {
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn non_canonical_texts_are_refused() {
        assert_eq!(decode(b"my"), Err(Base32Error::Character { at: 0 }));
        assert_eq!(decode(b"MY=="), Err(Base32Error::Character { at: 2 }));
        assert_eq!(decode(b"MZX"), Err(Base32Error::Length));
        // "MZ" would be 'f' with a 1 in the two bits past the byte.
        assert_eq!(decode(b"MZ"), Err(Base32Error::TrailingBits));
        assert_eq!(decode(b"M1"), Err(Base32Error::Character { at: 1 }));
    }
}
