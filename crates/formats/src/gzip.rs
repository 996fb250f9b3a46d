//! gzip-compressed input (`.xml.gz`), told by its first two bytes rather than its name and
//! unpacked as a stream: every member, as `gunzip` does. IATI files compress 4 to 18 times
//! (the samples in `shared/data/iati`), which matters to an office on a slow link.

use std::io::{self, BufRead, Read, Write};

/// The first two bytes of a gzip stream (RFC 1952).
pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `input` starts as a gzip stream. Reads nothing away: the bytes stay buffered.
pub fn starts_packed(input: &mut impl BufRead) -> io::Result<bool> {
    Ok(input.fill_buf()?.starts_with(&MAGIC))
}

/// What `packed` unpacks to, read as it is unpacked.
pub fn unpacking<R: BufRead>(packed: R) -> flate2::bufread::MultiGzDecoder<R> {
    flate2::bufread::MultiGzDecoder::new(packed)
}

/// Why a gzip stream could not be unpacked whole.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("the file is gzip-compressed but could not be unpacked after {after} bytes: {source}")]
    Damaged { after: u64, source: io::Error },
    #[error("the file unpacks to more than {} MiB", limit >> 20)]
    TooLarge { limit: u64 },
    #[error("writing the unpacked file: {0}")]
    Write(io::Error),
}

/// Unpacks `packed` into `out`, at most `limit` bytes, and returns how many it wrote.
pub fn unpack(packed: impl BufRead, out: &mut impl Write, limit: u64) -> Result<u64, UnpackError> {
    let mut decoder = unpacking(packed);
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match decoder.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(UnpackError::Damaged {
                    after: bytes,
                    source,
                });
            }
        };
        bytes += n as u64;
        if bytes > limit {
            return Err(UnpackError::TooLarge { limit });
        }
        out.write_all(&buf[..n]).map_err(UnpackError::Write)?;
    }
    out.flush().map_err(UnpackError::Write)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn members_are_unpacked_in_turn_and_plain_input_is_told_apart() {
        let mut two = pack(b"<iati-activities>");
        two.extend(pack(b"</iati-activities>"));
        let mut input = io::BufReader::new(&two[..]);
        assert!(starts_packed(&mut input).unwrap());
        let mut out = Vec::new();
        assert_eq!(unpack(input, &mut out, 1 << 20).unwrap(), 35);
        assert_eq!(out, b"<iati-activities></iati-activities>");
        assert!(!starts_packed(&mut &b"<?xml version"[..]).unwrap());
        assert!(!starts_packed(&mut &b""[..]).unwrap());
    }

    #[test]
    fn a_damaged_or_oversized_stream_is_refused_saying_why() {
        let packed = pack(&vec![b'x'; 100_000]);
        let mut out = Vec::new();
        let e = unpack(&packed[..packed.len() - 10], &mut out, 1 << 20).unwrap_err();
        assert!(matches!(e, UnpackError::Damaged { .. }), "{e}");
        assert!(e.to_string().contains("could not be unpacked after"), "{e}");
        let e = unpack(&packed[..], &mut Vec::new(), 50_000).unwrap_err();
        assert!(matches!(e, UnpackError::TooLarge { limit: 50_000 }), "{e}");
        let mut not_gzip = pack(b"x");
        not_gzip[3] = 0xff; // reserved flag bits set
        assert!(unpack(&not_gzip[..], &mut Vec::new(), 10).is_err());
    }
}
