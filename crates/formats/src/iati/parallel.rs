//! Validation on several threads.
//!
//! The document is cut after an activity's end tag every [`PART_BYTES`] or so. Each part is
//! validated on a worker thread as if it were the document with only that part inside its
//! root: the worker reads the root's start tag first (so namespaces, the root's attributes and
//! the schema state are what they are in the document), then the part. The parts' reports are
//! joined in document order, with their positions moved back to where they are in the file;
//! rule 1.1.2 (an identifier used twice) is decided while joining, as it needs every part
//! before.
//!
//! The cuts are guesses: an activity's end tag may sit in a comment or a CDATA section, an
//! activity may be nested in another (invalid), and something else than an activity may stand
//! between two of them. Each guess is checked before its part is joined: the part must have
//! ended directly inside the root element, in the very state the next part was started in.
//! When the check fails, the document is validated from that part on, on this thread, in one
//! piece. So the report is always the one a single thread gives; the tests compare the two on
//! every fixture, cut after each activity.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead, Cursor, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use memchr::memmem;

use super::document::{Extent, tag_end};
use super::position::{Source, TextCounter};
use super::report::Report;
use super::rules::RuleRunner;
use super::validate::{Duplicates, Merged, Part, ReadError, Setup, Shift, Start};

/// About how much of the document one part holds: large enough that reading the root's
/// start tag again and starting a run are nothing beside it, small enough that the threads
/// finish together and memory stays low (a few parts are in flight per thread).
pub(crate) const PART_BYTES: usize = 1 << 20;

/// The least the cutter reads at a time.
const READ_BYTES: usize = 64 * 1024;

/// One part for a worker.
struct Job {
    seq: usize,
    bytes: Arc<Vec<u8>>,
    /// The part ends the document (its run must find the root's end).
    last: bool,
}

type Done = (usize, Result<Part, ReadError>);

/// Validates `input` with `threads` workers, in parts of about `part_bytes`.
pub(crate) fn validate<R: BufRead>(
    setup: &Setup,
    input: R,
    threads: usize,
    part_bytes: usize,
) -> Result<Report, ReadError> {
    validate_counting(setup, input, threads, part_bytes).map(|(report, _)| report)
}

/// How a document was validated: how many parts were joined, and from which one on it was
/// validated in one piece (the whole document when it was not cut at all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pieces {
    pub(crate) joined: usize,
    pub(crate) in_one_from: Option<usize>,
}

fn validate_counting<R: BufRead>(
    setup: &Setup,
    input: R,
    threads: usize,
    part_bytes: usize,
) -> Result<(Report, Pieces), ReadError> {
    let mut cutter = Cutter::new(input, part_bytes);
    cutter.fill_first()?;
    // A small file, or one that is not a list of activities: one piece.
    let in_one_piece = |cutter: Cutter<R>| -> Result<(Report, Pieces), ReadError> {
        let (carry, input) = cutter.into_rest();
        let report = setup.whole(Cursor::new(carry).chain(input))?;
        let pieces = Pieces {
            joined: 0,
            in_one_from: Some(0),
        };
        Ok((report, pieces))
    };
    let header = match (cutter.eof, header(&cutter.carry)) {
        (false, Some((len, unit))) => {
            cutter.marker = format!("</{unit}>").into_bytes();
            cutter.carry[..len].to_vec()
        }
        _ => return in_one_piece(cutter),
    };
    let (Ok(header_text), Some((assumed, activities))) =
        (std::str::from_utf8(&header), setup.resumed_state(&header)?)
    else {
        return in_one_piece(cutter);
    };
    cutter.first_activities = activities;
    let header_end = {
        let mut counter = TextCounter::new(header_text);
        let all = counter.available().len();
        counter.consume(all);
        counter.position()
    };
    cutter.prefix.clone_from(&header);

    let stop = AtomicBool::new(false);
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let jobs_rx = Mutex::new(jobs_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let (jobs_rx, stop) = (&jobs_rx, &stop);
            scope.spawn(move || {
                let mut rules = setup.rules();
                loop {
                    let job = jobs_rx
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok(job) = job else { break };
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let runner = rules.take().or_else(|| setup.rules());
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_job(setup, &job, runner)
                    }));
                    let seq = job.seq;
                    // The joiner reuses the bytes once it holds the only reference.
                    drop(job);
                    let result = match outcome {
                        Ok(Ok((part, runner))) => {
                            rules = runner;
                            Ok(part)
                        }
                        Ok(Err(e)) => Err(e),
                        Err(_) => Err(ReadError::Internal("a validation thread stopped".into())),
                    };
                    if done_tx.send((seq, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let joined = Joiner {
            setup,
            header: &header,
            header_end,
            assumed: &assumed,
            window: threads * 2,
        }
        .run(&mut cutter, &jobs_tx, &done_rx);
        stop.store(true, Ordering::Relaxed);
        drop(jobs_tx);
        joined
    })
}

/// Validates one part on a worker.
fn run_job<'a>(
    setup: &Setup<'a>,
    job: &Job,
    rules: Option<RuleRunner<'a>>,
) -> Result<(Part, Option<RuleRunner<'a>>), ReadError> {
    let extent = if job.last {
        Extent::Document
    } else {
        Extent::Part
    };
    let duplicates = Duplicates::Defer(Vec::new());
    // Every part but the first starts with the root's start tag.
    let start = if job.seq == 0 {
        Start::Document
    } else {
        Start::Resumed
    };
    match std::str::from_utf8(&job.bytes) {
        Ok(text) => Ok(setup.part_text(text, start, extent, duplicates, rules)),
        // quick-xml says where and how the bytes are broken.
        Err(_) => setup.part(&job.bytes[..], start, extent, duplicates, rules),
    }
}

/// Hands parts to the workers and joins their reports in order.
struct Joiner<'j, 'a> {
    setup: &'j Setup<'a>,
    header: &'j [u8],
    /// Where the root's start tag ends (line, column).
    header_end: (u64, u64),
    /// The state each part after the first starts in.
    assumed: &'j super::validate::Boundary,
    /// Parts handed out and not joined yet, at most.
    window: usize,
}

impl Joiner<'_, '_> {
    fn run<R: BufRead>(
        &self,
        cutter: &mut Cutter<R>,
        jobs: &mpsc::Sender<Job>,
        done: &mpsc::Receiver<Done>,
    ) -> Result<(Report, Pieces), ReadError> {
        let mut merged = Merged::new(self.setup.max_findings());
        // Parts handed out and not joined yet, from `next`, and whether each is the last.
        let mut waiting: VecDeque<(Arc<Vec<u8>>, bool)> = VecDeque::new();
        let mut results: BTreeMap<usize, Result<Part, ReadError>> = BTreeMap::new();
        let (mut handed, mut next) = (0usize, 0usize);
        let mut all_handed = false;
        // Where the next part starts in the document.
        let mut base = (1, 1);
        loop {
            while !all_handed && handed - next < self.window {
                match cutter.next_part()? {
                    Some((bytes, last)) => {
                        let bytes = Arc::new(bytes);
                        waiting.push_back((Arc::clone(&bytes), last));
                        let job = Job {
                            seq: handed,
                            bytes,
                            last,
                        };
                        jobs.send(job).map_err(|_| {
                            ReadError::Internal("the validation threads stopped".into())
                        })?;
                        handed += 1;
                        all_handed = last;
                    }
                    None => all_handed = true,
                }
            }
            if next == handed {
                let pieces = Pieces {
                    joined: next,
                    in_one_from: None,
                };
                return Ok((merged.finish(), pieces));
            }
            let (seq, result) = done
                .recv()
                .map_err(|_| ReadError::Internal("the validation threads stopped".into()))?;
            results.insert(seq, result);
            while let Some(result) = results.remove(&next) {
                let part = result?;
                let last = waiting.front().is_some_and(|(_, last)| *last);
                let shift = if next == 0 {
                    Shift::NONE
                } else {
                    Shift {
                        from: self.header_end,
                        to: base,
                    }
                };
                if !last && part.boundary.as_ref() != Some(self.assumed) {
                    // The cut after this part was wrong: this part on, in one piece.
                    let rest = self.rest(next, &mut waiting, cutter, &mut merged)?;
                    merged.add(rest, shift);
                    let pieces = Pieces {
                        joined: next,
                        in_one_from: Some(next),
                    };
                    return Ok((merged.finish(), pieces));
                }
                base = shift.apply(part.end);
                merged.add(part, shift);
                if let Some((bytes, _)) = waiting.pop_front() {
                    cutter.reuse(bytes);
                }
                next += 1;
            }
        }
    }

    /// Validates the document from the start of part `seq` to its end on this thread.
    fn rest<R: BufRead>(
        &self,
        seq: usize,
        waiting: &mut VecDeque<(Arc<Vec<u8>>, bool)>,
        cutter: &mut Cutter<R>,
        merged: &mut Merged,
    ) -> Result<Part, ReadError> {
        // The parts without the root's start tag they start with (all but the first).
        let mut bytes = Vec::new();
        for (i, (part, _)) in waiting.drain(..).enumerate() {
            let skip = if seq + i == 0 { 0 } else { self.header.len() };
            bytes.extend_from_slice(&part[skip..]);
        }
        let carry = std::mem::take(&mut cutter.carry);
        let skip = if cutter.prefixed {
            self.header.len()
        } else {
            0
        };
        bytes.extend_from_slice(carry.get(skip..).unwrap_or_default());
        let rest = Cursor::new(bytes).chain(&mut cutter.input);
        let duplicates = Duplicates::Check(merged.take_seen());
        let rules = self.setup.rules();
        let (part, _) = if seq == 0 {
            self.setup
                .part(rest, Start::Document, Extent::Document, duplicates, rules)?
        } else {
            let input = self.header.chain(rest);
            self.setup
                .part(input, Start::Resumed, Extent::Document, duplicates, rules)?
        };
        Ok(part)
    }
}

/// Cuts the input after an activity's end tag once a part is large enough.
struct Cutter<R> {
    input: R,
    /// Read and not handed out yet.
    carry: Vec<u8>,
    /// How much of `carry` is known to hold no end tag.
    searched: usize,
    /// The first part ends after at least this many activities (the number after which
    /// the root's content model stays where it is, see [`Start::Resumed`]).
    first_activities: usize,
    /// End tags counted in the first part so far, and up to where.
    counted: (usize, usize),
    eof: bool,
    /// The last part was handed out.
    done: bool,
    /// `</iati-activity>` (or `</iati-organisation>`).
    marker: Vec<u8>,
    /// Buffers of parts already joined, for the next parts.
    spare: Vec<Vec<u8>>,
    /// What every part after the first starts with: the document up to the end of the
    /// root's start tag.
    prefix: Vec<u8>,
    /// `carry` starts with `prefix`.
    prefixed: bool,
    part_bytes: usize,
}

impl<R: Read> Cutter<R> {
    fn new(input: R, part_bytes: usize) -> Self {
        Cutter {
            input,
            carry: Vec::new(),
            searched: 0,
            first_activities: 0,
            counted: (0, 0),
            eof: false,
            done: false,
            marker: Vec::new(),
            spare: Vec::new(),
            prefix: Vec::new(),
            prefixed: false,
            part_bytes,
        }
    }

    /// Reads until a part's worth is read or the input ends.
    fn fill_first(&mut self) -> io::Result<()> {
        while !self.eof && self.carry.len() < self.part_bytes {
            self.read_more()?;
        }
        Ok(())
    }

    fn read_more(&mut self) -> io::Result<()> {
        // Up to a part's size at once, then a little at a time: what is read past the cut
        // is copied into the next part's buffer.
        let want = self
            .part_bytes
            .saturating_sub(self.carry.len())
            .max(READ_BYTES);
        // Room for all of it up front: `read_to_end` would otherwise grow the buffer by
        // doubling, copying what it holds each time.
        self.carry.reserve(want);
        let want = want as u64;
        if (&mut self.input).take(want).read_to_end(&mut self.carry)? == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// The next part, and whether it is the last (the rest of the input).
    fn next_part(&mut self) -> io::Result<Option<(Vec<u8>, bool)>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.eof {
                self.done = true;
                return Ok(Some((std::mem::take(&mut self.carry), true)));
            }
            // The first end tag that ends at least `part_bytes` in.
            let from = self
                .searched
                .max(self.part_bytes)
                .saturating_sub(self.marker.len());
            if from < self.carry.len() {
                if let Some(at) = memmem::find(&self.carry[from..], &self.marker)
                    && let Some(enough) = self.enough_activities()
                {
                    let cut = (from + at + self.marker.len()).max(enough);
                    let mut rest = self.spare.pop().unwrap_or_else(|| {
                        Vec::with_capacity(self.prefix.len() + self.part_bytes + 2 * READ_BYTES)
                    });
                    rest.clear();
                    rest.extend_from_slice(&self.prefix);
                    rest.extend_from_slice(&self.carry[cut..]);
                    self.carry.truncate(cut);
                    self.searched = self.prefix.len();
                    self.prefixed = true;
                    return Ok(Some((std::mem::replace(&mut self.carry, rest), false)));
                }
                self.searched = self.carry.len();
            }
            self.read_more()?;
        }
    }

    /// Takes back a part's buffer once no worker holds it.
    fn reuse(&mut self, bytes: Arc<Vec<u8>>) {
        if let Ok(bytes) = Arc::try_unwrap(bytes)
            && self.spare.len() < 4
        {
            self.spare.push(bytes);
        }
    }

    /// Where the first part has enough activities (0 for the other parts), if read yet.
    fn enough_activities(&mut self) -> Option<usize> {
        if self.first_activities == 0 {
            return Some(0);
        }
        let (mut count, mut at) = self.counted;
        while count < self.first_activities {
            let found = memmem::find(&self.carry[at..], &self.marker);
            match found {
                Some(i) => {
                    count += 1;
                    at += i + self.marker.len();
                }
                None => {
                    self.counted = (
                        count,
                        self.carry.len().saturating_sub(self.marker.len()).max(at),
                    );
                    return None;
                }
            }
        }
        self.first_activities = 0;
        Some(at)
    }

    fn into_rest(self) -> (Vec<u8>, R) {
        (self.carry, self.input)
    }
}

/// The length of the document's start up to the end of the root's start tag, and the name of
/// the root's children (`iati-activity` or `iati-organisation`), when the root is
/// `iati-activities` or `iati-organisations` and nothing but an XML declaration, processing
/// instructions, comments and white space come before it.
fn header(input: &[u8]) -> Option<(usize, &'static str)> {
    let mut at = 0;
    loop {
        let lt = at + memchr::memchr(b'<', &input[at..])?;
        let rest = &input[lt..];
        if rest.starts_with(b"<?") {
            at = lt + memmem::find(rest, b"?>")? + 2;
        } else if rest.starts_with(b"<!--") {
            at = lt + 4 + memmem::find(&rest[4..], b"-->")? + 3;
        } else {
            let name = &rest[1..];
            let unit = [
                ("iati-activities", "iati-activity"),
                ("iati-organisations", "iati-organisation"),
            ]
            .into_iter()
            .find(|(root, _)| {
                name.starts_with(root.as_bytes())
                    && matches!(
                        name.get(root.len()),
                        Some(b' ' | b'\t' | b'\r' | b'\n' | b'>')
                    )
            })?
            .1;
            let gt = tag_end(rest, 1)?;
            if rest[gt - 1] == b'/' {
                return None;
            }
            return Some((lt + gt + 1, unit));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::iati::ValidateOptions;

    /// Validates `doc` on one thread and in parts of `part_bytes` (1: after every activity).
    fn both(doc: &[u8], opts: &ValidateOptions, part_bytes: usize) -> (Report, Report, Pieces) {
        let setup = Setup::new(opts).unwrap();
        let one = setup.whole(doc).unwrap();
        let (parts, pieces) = validate_counting(&setup, doc, 2, part_bytes).unwrap();
        (one, parts, pieces)
    }

    fn options(max_findings: usize) -> ValidateOptions {
        ValidateOptions {
            max_findings,
            today: Some("2026-12-01".into()),
            ..ValidateOptions::default()
        }
    }

    fn iati_data() -> PathBuf {
        match std::env::var("MERIDIAN_IATI_DATA") {
            Ok(dir) => PathBuf::from(dir),
            Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati"),
        }
    }

    fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                xml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "xml") {
                out.push(path);
            }
        }
    }

    #[test]
    fn parts_report_what_one_thread_reports_on_every_sample() {
        let mut files = Vec::new();
        xml_files(&iati_data(), &mut files);
        files.sort();
        assert!(files.len() > 1000, "{} files", files.len());
        let mut cut = 0;
        for path in files {
            // The 20 MB performance file is generated like the benchmark's; the rest
            // are real and hand-made files.
            if path.components().any(|c| c.as_os_str() == "derived-perf") {
                continue;
            }
            let doc = std::fs::read(&path).unwrap();
            for opts in [options(1_000_000), options(3)] {
                let (one, parts, pieces) = both(&doc, &opts, 1);
                assert_eq!(one, parts, "{}", path.display());
                if pieces.joined > 1 {
                    cut += 1;
                }
                // A well-formed list of three activities or more is cut.
                let list = one.root.as_deref() == Some("iati-activities");
                // A well-formed list of three activities or more is cut (unless other
                // elements come before the activities, as IATI 1.0x registry records do:
                // then the root's state after them is not the one assumed).
                let legacy = path
                    .components()
                    .any(|c| c.as_os_str() == "real-legacy-1.x");
                if list && one.well_formed && one.activities >= 3 && !legacy {
                    assert!(pieces.joined > 1, "{}: {pieces:?}", path.display());
                }
            }
        }
        assert!(cut > 90, "{cut} runs cut");
    }

    const ROOT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\" generated-datetime=\"2026-01-01T00:00:00Z\" xmlns:me=\"urn:me\">\n";

    /// An activity with a few findings of every kind.
    fn activity(id: &str, extra: &str) -> String {
        format!(
            "  <iati-activity default-currency=\"XXX\">\n    <iati-identifier>{id}</iati-identifier>\n    <reporting-org ref=\"XM-DAC-47066\" type=\"999\"><narrative>IOM</narrative></reporting-org>\n    <title><narrative>Title {id}</narrative></title>{extra}\n    <activity-status code=\"2\"/>\n    <activity-date type=\"1\" iso-date=\"2027-01-01\"/><activity-date type=\"3\" iso-date=\"2020-01-01\"/>\n  </iati-activity>\n"
        )
    }

    fn document(activities: &[String]) -> String {
        format!("{ROOT}{}</iati-activities>\n", activities.concat())
    }

    fn plain(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| activity(&format!("XM-DAC-47066-{i}"), ""))
            .collect()
    }

    /// Checks that cutting gives the single thread's report, and returns how it went.
    fn same(doc: &str) -> Pieces {
        let mut last = Pieces::default();
        for part_bytes in [1, 300, 2_000] {
            for opts in [options(10_000), options(2), options(7)] {
                let (one, parts, pieces) = both(doc.as_bytes(), &opts, part_bytes);
                assert_eq!(one, parts, "parts of {part_bytes} bytes, {opts:?}:\n{doc}");
                if part_bytes == 1 && opts.max_findings == 10_000 {
                    last = pieces;
                }
            }
        }
        last
    }

    #[test]
    fn a_plain_file_is_joined_from_its_parts() {
        let doc = document(&plain(6));
        let pieces = same(&doc);
        assert_eq!(
            pieces,
            Pieces {
                joined: 6,
                in_one_from: None
            }
        );
        let setup_opts = options(10_000);
        let setup = Setup::new(&setup_opts).unwrap();
        let report = setup.whole(doc.as_bytes()).unwrap();
        assert_eq!(report.activities, 6);
        assert!(report.errors > 6, "{report:?}");
    }

    #[test]
    fn identifiers_used_twice_are_found_across_parts() {
        let mut acts = plain(5);
        acts.push(activity("XM-DAC-47066-1", ""));
        acts.push(activity("", ""));
        acts.push(activity("", ""));
        let doc = document(&acts);
        assert_eq!(same(&doc).in_one_from, None);
        let opts = options(10_000);
        let report = Setup::new(&opts).unwrap().whole(doc.as_bytes()).unwrap();
        assert_eq!(report.by_rule["1.1.2"].count, 2, "{:?}", report.by_rule);
    }

    #[test]
    fn positions_are_those_in_the_file() {
        // One line, and Windows line ends.
        let one_line = document(&plain(4)).replace('\n', "");
        assert_eq!(same(&one_line).in_one_from, None);
        let crlf = document(&plain(4)).replace('\n', "\r\n");
        assert_eq!(same(&crlf).in_one_from, None);
        let opts = options(10_000);
        let report = Setup::new(&opts)
            .unwrap()
            .whole(one_line.as_bytes())
            .unwrap();
        assert!(report.findings.iter().all(|f| f.line == 1));
        assert!(report.findings.iter().any(|f| f.column > 1_000));
    }

    #[test]
    fn wrong_cuts_are_found_and_the_rest_read_in_one_piece() {
        let cases: Vec<(&str, String)> = vec![
            (
                "a comment",
                document(&[plain(2), vec!["<!-- <iati-activity></iati-activity> -->".into()], plain(2)].concat()),
            ),
            (
                "CDATA",
                document(&[
                    plain(2),
                    vec![activity("A-CDATA", "<description><narrative><![CDATA[</iati-activity>]]></narrative></description>")],
                    plain(2),
                ]
                .concat()),
            ),
            (
                "a nested activity",
                document(&[
                    plain(2),
                    vec![activity("A-NESTED", &activity("A-INNER", ""))],
                    plain(2),
                ]
                .concat()),
            ),
            (
                "another element between activities",
                document(&[plain(2), vec!["<me:other/>".into()], plain(2)].concat()),
            ),
            (
                "text between activities",
                document(&[plain(2), vec!["stray text".into()], plain(2)].concat()),
            ),
            (
                "a broken activity",
                document(&[plain(2), vec![activity("A-BROKEN", "<title></titel>")], plain(2)].concat()),
            ),
        ];
        for (what, doc) in cases {
            let pieces = same(&doc);
            assert!(
                pieces.in_one_from.is_some_and(|p| p > 0),
                "{what}: {pieces:?}"
            );
        }
    }

    #[test]
    fn broken_ends_are_reported_as_by_one_thread() {
        let doc = document(&plain(4));
        let truncated_in_activity = &doc[..doc.len() - 200];
        let without_root_end = &doc[..doc.rfind("</iati-activities>").unwrap()];
        let trailing_garbage = format!("{doc}<x/>");
        for doc in [truncated_in_activity, without_root_end, &trailing_garbage] {
            same(doc);
            let opts = options(10_000);
            let report = Setup::new(&opts).unwrap().whole(doc.as_bytes()).unwrap();
            assert!(!report.well_formed);
        }
    }

    #[test]
    fn organisation_files_are_cut_too() {
        let org = |id: &str| {
            format!(
                "<iati-organisation><organisation-identifier>{id}</organisation-identifier><name><narrative>N</narrative></name><reporting-org ref=\"{id}\" type=\"10\"/></iati-organisation>\n"
            )
        };
        let doc = format!(
            "<iati-organisations version=\"2.03\">\n{}{}{}</iati-organisations>",
            org("XM-1"),
            org("XM-2"),
            org("XM-1")
        );
        let pieces = same(&doc);
        assert_eq!(
            pieces,
            Pieces {
                joined: 3,
                in_one_from: None
            }
        );
    }

    #[test]
    fn the_header_ends_after_the_root_s_start_tag() {
        let doc = b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- <iati-activities> -->\n<iati-activities version=\"2.03\" x=\"a>b\">\n<iati-activity/>";
        let (len, unit) = header(doc).unwrap();
        assert!(doc[..len].ends_with(b"x=\"a>b\">"));
        assert_eq!(unit, "iati-activity");
        assert_eq!(header(b"<iati-activities/>"), None);
        assert_eq!(header(b"<iati-activitiesx>"), None);
        assert_eq!(header(b"<!DOCTYPE x><iati-activities>"), None);
        assert_eq!(
            header(b"<iati-organisations>").map(|h| h.1),
            Some("iati-organisation")
        );
    }

    #[test]
    fn parts_end_after_an_activity() {
        let doc = b"<r><iati-activity>a</iati-activity><iati-activity>b</iati-activity> <x/>";
        let mut cutter = Cutter::new(&doc[..], 20);
        cutter.marker = b"</iati-activity>".to_vec();
        let mut parts = Vec::new();
        while let Some((bytes, last)) = cutter.next_part().unwrap() {
            parts.push((String::from_utf8(bytes).unwrap(), last));
        }
        let joined: String = parts.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(joined.as_bytes(), doc);
        assert!(
            parts
                .iter()
                .rev()
                .skip(1)
                .all(|(p, last)| !last && p.ends_with("</iati-activity>"))
        );
        assert!(parts.last().unwrap().1);
        assert!(parts.len() >= 2);
    }
}
