//! Line and column numbers for a streamed document.
//!
//! The XML reader only knows byte offsets. This reader sits below it and counts line breaks
//! in every byte the XML reader consumes, so the position "before the next event" is always
//! at hand without keeping any of the input.

use std::io::{self, BufRead, Read};

/// Large enough that a refill is rare and almost every token lies whole in the buffer.
const BUFFER_SIZE: usize = 256 * 1024;

pub(crate) struct LineCounter<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Absolute offset of `buf[pos]`.
    offset: u64,
    line: u64,
    line_start: u64,
    /// Offset just after the last `\r`, so that `\r\n` counts once.
    after_cr: u64,
}

impl<R: Read> LineCounter<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineCounter {
            inner,
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
            pos: 0,
            filled: 0,
            offset: 0,
            line: 1,
            line_start: 0,
            after_cr: u64::MAX,
        }
    }

    /// 1-based line and byte column of the next unread byte.
    pub(crate) fn position(&self) -> (u64, u64) {
        (self.line, self.offset - self.line_start + 1)
    }

    /// Bytes read from the input and not consumed yet.
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// Offset of the next unread byte from the start of the input.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Moves the unread bytes to the front of the buffer and reads more after them.
    /// `Ok(false)` when nothing more could be read: the input is at its end, or the buffer
    /// is full.
    pub(crate) fn fill_more(&mut self) -> io::Result<bool> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            return Ok(false);
        }
        loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn count(&mut self, amount: usize) {
        let slice = &self.buf[self.pos..self.pos + amount];
        for i in memchr::memchr2_iter(b'\n', b'\r', slice) {
            let at = self.offset + i as u64;
            if slice[i] == b'\r' {
                self.line += 1;
                self.after_cr = at + 1;
            } else if at != self.after_cr {
                self.line += 1;
            }
            self.line_start = at + 1;
        }
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            self.filled = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.filled - self.pos);
        self.count(amount);
        self.pos += amount;
        self.offset += amount as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_kind_of_line_break() {
        let mut r = LineCounter::new(&b"a\nb\r\nc\rd"[..]);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(r.position(), (4, 2));
    }

    #[test]
    fn columns_restart_after_a_break() {
        let mut r = LineCounter::new(&b"abc\nde"[..]);
        let n = r.fill_buf().unwrap().len();
        assert_eq!(n, 6);
        r.consume(5);
        assert_eq!(r.position(), (2, 2));
    }
}
