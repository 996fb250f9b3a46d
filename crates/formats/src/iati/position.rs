//! Line and column numbers for a streamed document.
//!
//! The XML reader only knows byte offsets. These readers sit below it and count line breaks
//! in every byte the XML reader consumes, so the position "before the next event" is always
//! at hand without keeping any of the input: [`LineCounter`] over any reader, through a
//! buffer, and [`TextCounter`] over text already in memory (a part of a document validated
//! on another thread), which needs no copy and no UTF-8 check per token.

use std::io::{self, BufRead, Read};

/// What the document reader reads from: buffered input with its position.
pub(crate) trait Source: BufRead {
    /// 1-based line and byte column of the next unread byte.
    fn position(&self) -> (u64, u64);
    /// Bytes at hand and not consumed yet.
    fn available(&self) -> &[u8];
    /// The same as text, when the source knows it is UTF-8 (then it is sliced, not checked).
    fn available_text(&self) -> Option<&str>;
    /// Offset of the next unread byte from the start of the input.
    fn offset(&self) -> u64;
    /// Makes more input available after the unread bytes. `Ok(false)` when nothing more
    /// could be: the input is at its end, or the buffer is full.
    fn fill_more(&mut self) -> io::Result<bool>;
    /// Whether the input may hold a carriage return (then text needs its line ends
    /// normalized); `true` when the source cannot tell.
    fn may_hold_cr(&self) -> bool {
        true
    }
}

/// Counts line breaks (`\n`, `\r`, `\r\n`) in consumed bytes.
#[derive(Clone, Copy, Debug)]
struct Lines {
    line: u64,
    line_start: u64,
    /// Offset just after the last `\r`, so that `\r\n` counts once.
    after_cr: u64,
}

impl Lines {
    const START: Lines = Lines {
        line: 1,
        line_start: 0,
        after_cr: u64::MAX,
    };

    /// Counts the breaks in `slice`, which starts at `offset`.
    fn count(&mut self, slice: &[u8], offset: u64) {
        for i in memchr::memchr2_iter(b'\n', b'\r', slice) {
            let at = offset + i as u64;
            if slice[i] == b'\r' {
                self.line += 1;
                self.after_cr = at + 1;
            } else if at != self.after_cr {
                self.line += 1;
            }
            self.line_start = at + 1;
        }
    }

    fn position(&self, offset: u64) -> (u64, u64) {
        (self.line, offset - self.line_start + 1)
    }
}

/// Text in memory as a [`Source`]. Its line starts are found in one pass first, so that
/// consuming a token only moves an offset.
pub(crate) struct TextCounter<'a> {
    text: &'a str,
    pos: usize,
    /// Where lines 2, 3, … start.
    starts: Vec<usize>,
    /// Lines known to start at or before `pos`: positions are asked in increasing order.
    line: std::cell::Cell<usize>,
    has_cr: bool,
}

impl<'a> TextCounter<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = Vec::with_capacity(bytes.len() / 64);
        let has_cr = memchr::memchr(b'\r', bytes).is_some();
        if !has_cr {
            line_feeds(bytes, &mut starts);
            return TextCounter {
                text,
                pos: 0,
                starts,
                line: std::cell::Cell::new(0),
                has_cr,
            };
        }
        let mut after_cr = usize::MAX;
        // As [`Lines::count`]: `\r\n` is one break, after the `\n`.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if bytes[i] == b'\r' {
                starts.push(i + 1);
                after_cr = i + 1;
            } else if i == after_cr {
                if let Some(last) = starts.last_mut() {
                    *last = i + 1;
                }
            } else {
                starts.push(i + 1);
            }
        }
        TextCounter {
            text,
            pos: 0,
            starts,
            line: std::cell::Cell::new(0),
            has_cr,
        }
    }
}

/// Pushes the offset after every `\n` of `bytes`: the search for one byte is cheaper per
/// hit than the search for two.
fn line_feeds(bytes: &[u8], starts: &mut Vec<usize>) {
    starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
}

impl Read for TextCounter<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = Source::available(self);
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for TextCounter<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(Source::available(self))
    }

    fn consume(&mut self, amount: usize) {
        self.pos += amount.min(self.text.len() - self.pos);
    }
}

impl Source for TextCounter<'_> {
    fn position(&self) -> (u64, u64) {
        let mut line = self.line.get();
        while self
            .starts
            .get(line)
            .is_some_and(|start| *start <= self.pos)
        {
            line += 1;
        }
        self.line.set(line);
        let line_start = if line == 0 { 0 } else { self.starts[line - 1] };
        (line as u64 + 1, (self.pos - line_start) as u64 + 1)
    }

    fn available(&self) -> &[u8] {
        &self.text.as_bytes()[self.pos..]
    }

    fn available_text(&self) -> Option<&str> {
        // Tokens end at ASCII delimiters, so `pos` is on a character boundary; `get` says
        // so rather than panicking if it were not.
        self.text.get(self.pos..)
    }

    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn fill_more(&mut self) -> io::Result<bool> {
        Ok(false)
    }

    fn may_hold_cr(&self) -> bool {
        self.has_cr
    }
}

/// Large enough that a refill is rare and almost every token lies whole in the buffer.
const BUFFER_SIZE: usize = 256 * 1024;

pub(crate) struct LineCounter<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Absolute offset of `buf[pos]`.
    offset: u64,
    lines: Lines,
}

std::thread_local! {
    /// The buffer of the last counter dropped on this thread: a thread validating one part
    /// after another reuses it instead of asking the system for fresh pages each time.
    static SPARE: std::cell::Cell<Option<Box<[u8]>>> = const { std::cell::Cell::new(None) };
}

impl<R> Drop for LineCounter<R> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        if buf.len() == BUFFER_SIZE {
            SPARE.set(Some(buf));
        }
    }
}

impl<R: Read> LineCounter<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineCounter {
            inner,
            buf: SPARE
                .take()
                .unwrap_or_else(|| vec![0; BUFFER_SIZE].into_boxed_slice()),
            pos: 0,
            filled: 0,
            offset: 0,
            lines: Lines::START,
        }
    }
}

impl<R: Read> Source for LineCounter<R> {
    fn position(&self) -> (u64, u64) {
        self.lines.position(self.offset)
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    fn available_text(&self) -> Option<&str> {
        None
    }

    fn offset(&self) -> u64 {
        self.offset
    }

    /// Moves the unread bytes to the front of the buffer and reads more after them.
    fn fill_more(&mut self) -> io::Result<bool> {
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
        self.lines
            .count(&self.buf[self.pos..self.pos + amount], self.offset);
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
    fn text_counts_as_the_reader_does() {
        // With carriage returns, and (the other way of finding lines) without.
        for (text, has_cr) in [
            ("a\nbc\r\nd\re\n\n\r\r\nfg", true),
            ("a\nbc\nd\n\n\nfg\n", false),
        ] {
            assert_eq!(TextCounter::new(text).may_hold_cr(), has_cr);
            counts_as_the_reader(text);
        }
    }

    fn counts_as_the_reader(text: &str) {
        let bytes = text.as_bytes();
        for at in 0..=bytes.len() {
            // Never asked between the two bytes of `\r\n` (tokens do not end there).
            if at > 0 && bytes[at - 1] == b'\r' && bytes.get(at) == Some(&b'\n') {
                continue;
            }
            let mut lines = LineCounter::new(bytes);
            lines.fill_buf().unwrap();
            lines.consume(at);
            let mut text_lines = TextCounter::new(text);
            text_lines.consume(at);
            assert_eq!(text_lines.position(), lines.position(), "at {at}");
        }
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
