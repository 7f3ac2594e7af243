//! What sipgate plays: WAV files of 16-bit PCM, 8,000 Hz, mono. Anything
//! else it silently fails to play — a menu that says nothing. This reads
//! the first bytes of a file and says what it is and what is wrong.
//!
//! ```text
//! RIFF <size> WAVE  fmt  <16> <1: PCM> <1 channel> <8000 Hz> <byte rate> <block> <16 bits>  data …
//! ```

use std::fmt;

/// The format sipgate plays.
pub const SAMPLE_RATE: u32 = 8_000;
pub const CHANNELS: u16 = 1;
pub const BITS: u16 = 16;

/// The command that converts any audio file into it.
pub const CONVERT: &str = "sox in.wav -r 8000 -c 1 -b 16 out.wav";

/// A WAV file's format, from its `fmt ` chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFormat {
    /// 1 is PCM; 3 float, 6 A-law, 7 µ-law, 0xFFFE extensible.
    pub format_tag: u16,
    pub channels: u16,
    pub sample_rate: u32,
    pub bits: u16,
}

/// Why a file is not one sipgate plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoundProblem {
    /// Not a RIFF/WAVE file at all: what it looks like instead.
    NotWav(&'static str),
    /// A WAV, but not 16-bit PCM 8,000 Hz mono.
    WrongFormat(WavFormat),
    /// Its first bytes end before the `fmt ` chunk.
    Truncated,
}

impl fmt::Display for SoundProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SoundProblem::NotWav(kind) => write!(
                f,
                "is {kind}, not a WAV file: sipgate plays 16-bit PCM WAV, 8,000 Hz, mono (convert with `{CONVERT}`)"
            ),
            SoundProblem::WrongFormat(format) => {
                let mut wrong = Vec::new();
                if format.format_tag != 1 && format.format_tag != 0xFFFE {
                    wrong.push(format!("not PCM (format {})", format.format_tag));
                }
                if format.sample_rate != SAMPLE_RATE {
                    wrong.push(format!("{} Hz", thousands(format.sample_rate)));
                }
                if format.channels != CHANNELS {
                    wrong.push(match format.channels {
                        2 => "stereo".to_owned(),
                        n => format!("{n} channels"),
                    });
                }
                if format.bits != BITS {
                    wrong.push(format!("{}-bit", format.bits));
                }
                write!(
                    f,
                    "is {}: sipgate plays 16-bit PCM, 8,000 Hz, mono (convert with `{CONVERT}`)",
                    wrong.join(" ")
                )
            }
            SoundProblem::Truncated => f.write_str(
                "ends before its format is named: not a complete WAV file",
            ),
        }
    }
}

fn thousands(value: u32) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Reads the format from a file's first bytes (a few hundred suffice: the
/// `fmt ` chunk comes first, or after a short `LIST` or `JUNK`).
pub fn read_format(bytes: &[u8]) -> Result<WavFormat, SoundProblem> {
    if bytes.get(0..4) != Some(b"RIFF".as_slice()) || bytes.get(8..12) != Some(b"WAVE".as_slice()) {
        return Err(SoundProblem::NotWav(guess(bytes)));
    }
    let mut at = 12;
    while let (Some(id), Some(size)) = (bytes.get(at..at + 4), u32_at(bytes, at + 4)) {
        if id == b"fmt " {
            let field = |offset: usize| u16_at(bytes, at + 8 + offset);
            return match (field(0), field(2), u32_at(bytes, at + 12), field(14)) {
                (Some(format_tag), Some(channels), Some(sample_rate), Some(bits)) => {
                    Ok(WavFormat {
                        format_tag,
                        channels,
                        sample_rate,
                        bits,
                    })
                }
                _ => Err(SoundProblem::Truncated),
            };
        }
        // Chunks are padded to an even size.
        at += 8 + size as usize + (size as usize & 1);
    }
    Err(SoundProblem::Truncated)
}

/// Whether `format` is what sipgate plays.
pub fn check(format: WavFormat) -> Result<(), SoundProblem> {
    let pcm = format.format_tag == 1 || format.format_tag == 0xFFFE;
    if pcm
        && format.sample_rate == SAMPLE_RATE
        && format.channels == CHANNELS
        && format.bits == BITS
    {
        Ok(())
    } else {
        Err(SoundProblem::WrongFormat(format))
    }
}

/// What a file that is not a WAV looks like, by its magic bytes.
fn guess(bytes: &[u8]) -> &'static str {
    match bytes {
        [b'I', b'D', b'3', ..] | [0xFF, 0xFB | 0xF3 | 0xF2 | 0xFA, ..] => "an MP3",
        [b'O', b'g', b'g', b'S', ..] => "an Ogg file",
        [b'f', b'L', b'a', b'C', ..] => "a FLAC file",
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => "an MP4/M4A file",
        [b'<', ..] | [b' ' | b'\n' | b'\r' | b'\t', b'<', ..] => "an HTML or XML page",
        [b'{', ..] => "JSON",
        [] => "empty",
        _ => "not audio sipgate knows",
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV header as `sox` writes one (with an optional LIST chunk first).
    pub fn header(rate: u32, channels: u16, bits: u16, list: bool) -> Vec<u8> {
        let mut bytes = b"RIFF\0\0\0\0WAVE".to_vec();
        if list {
            bytes.extend(b"LIST\x05\0\0\0abcde\0");
        }
        bytes.extend(b"fmt \x10\0\0\0");
        bytes.extend(1u16.to_le_bytes());
        bytes.extend(channels.to_le_bytes());
        bytes.extend(rate.to_le_bytes());
        bytes.extend((rate * u32::from(channels) * u32::from(bits) / 8).to_le_bytes());
        bytes.extend((channels * bits / 8).to_le_bytes());
        bytes.extend(bits.to_le_bytes());
        bytes.extend(b"data\0\0\0\0");
        bytes
    }

    #[test]
    fn sipgates_format_passes_with_or_without_chunks_before_fmt() {
        for list in [false, true] {
            let format = read_format(&header(8000, 1, 16, list)).unwrap();
            assert_eq!(check(format), Ok(()));
        }
    }

    #[test]
    fn every_other_format_is_named_with_the_conversion() {
        let problem = check(read_format(&header(44_100, 2, 16, false)).unwrap()).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "is 44,100 Hz stereo: sipgate plays 16-bit PCM, 8,000 Hz, mono (convert with `sox in.wav -r 8000 -c 1 -b 16 out.wav`)"
        );
        let problem = check(read_format(&header(8000, 1, 8, false)).unwrap()).unwrap_err();
        assert!(problem.to_string().starts_with("is 8-bit:"));
    }

    #[test]
    fn other_files_are_told_by_their_magic_bytes() {
        let named = |bytes: &[u8]| read_format(bytes).unwrap_err().to_string();
        assert!(named(b"ID3\x04\0\0\0\0").starts_with("is an MP3, not a WAV file"));
        assert!(named(&[0xFF, 0xFB, 0x90, 0x64]).starts_with("is an MP3"));
        assert!(named(b"<!doctype html>").starts_with("is an HTML or XML page"));
        assert!(named(b"").starts_with("is empty"));
        assert_eq!(
            read_format(b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0"),
            Err(SoundProblem::Truncated)
        );
    }
}
