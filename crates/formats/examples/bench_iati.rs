//! IATI validation benchmark: Meridian (schema + codelists + ruleset) against lxml's XSD
//! validation (schema only) and, when installed, xmllint's (schema only), on the ~100 MB
//! file `samples/derived-perf/make_derived.py` builds.
//!
//! ```text
//! cargo run --release -p meridian-formats --example bench_iati -- [--runs 5] [--activities 12500] [--file PATH]
//! ```
//!
//! Every tool runs as a child process, the same number of times, interleaved (Meridian,
//! lxml, xmllint, Meridian, …) so that a busy machine slows them alike. Each child is started
//! by a small Python wrapper that times it and reads its peak memory with
//! `getrusage(RUSAGE_CHILDREN).ru_maxrss`, the same measure for all three. Meridian's child is
//! this binary itself in `--validate-one` mode, so build it with `--release`.
//!
//! Needs `python3` with `lxml` (`pip install lxml`), which also builds the derived file (kept
//! in the temp folder and reused). Prints a Markdown table.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use meridian_formats::iati::{ValidateOptions, validate};

/// The allocator of the `meridian` binary, so that the figures are those of `meridian iati
/// validate`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Times one child command and reports its peak RSS and CPU time, printing `wall_seconds
/// maxrss_kb exit_code cpu_seconds` as its last line; the child's own output goes to stderr.
const WRAPPER: &str = r#"
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=sys.stderr)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(f"{wall:.6f} {usage.ru_maxrss} {done.returncode} {cpu:.6f}")
"#;

/// lxml's XSD validation: parse the schema, parse the document, validate.
const LXML: &str = r#"
import sys, time
from lxml import etree
t0 = time.perf_counter()
schema = etree.XMLSchema(etree.parse(sys.argv[1]))
t1 = time.perf_counter()
doc = etree.parse(sys.argv[2])
t2 = time.perf_counter()
valid = schema.validate(doc)
t3 = time.perf_counter()
print(f"lxml: valid={valid} schema={t1 - t0:.3f}s parse={t2 - t1:.3f}s validate={t3 - t2:.3f}s")
sys.exit(0 if valid else 1)
"#;

struct Options {
    runs: usize,
    activities: usize,
    file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, file] = args.as_slice()
        && mode == "--validate-one"
    {
        return validate_one(Path::new(file));
    }
    match run(parse_args(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_iati: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: &[String]) -> Options {
    let mut opts = Options {
        runs: 5,
        activities: 12_500,
        file: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--runs" => opts.runs = value().parse().unwrap_or(5).max(1),
            "--activities" => opts.activities = value().parse().unwrap_or(12_500).max(1),
            "--file" => opts.file = Some(PathBuf::from(value())),
            other => eprintln!("bench_iati: ignoring unknown argument {other}"),
        }
    }
    opts
}

/// The child: one full validation, with a one-line summary on stdout.
fn validate_one(path: &Path) -> ExitCode {
    let report = match File::open(path) {
        Ok(f) => validate(BufReader::new(f), &ValidateOptions::default()),
        Err(e) => Err(e.into()),
    };
    match report {
        Ok(r) => {
            println!(
                "meridian: {} activities, {} errors, {} warnings, well-formed={}",
                r.activities, r.errors, r.warnings, r.well_formed
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("meridian: {e}");
            ExitCode::from(2)
        }
    }
}

fn iati_data() -> PathBuf {
    match std::env::var("MERIDIAN_IATI_DATA") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati"),
    }
}

struct Tool {
    name: String,
    command: Vec<String>,
    walls: Vec<f64>,
    /// CPU time (user + system, all threads) of each run.
    cpus: Vec<f64>,
    /// lxml only: its own parse + validate time, without the interpreter's start-up.
    inner: Vec<f64>,
    peak_kb: u64,
    note: String,
}

fn run(opts: Options) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!("bench_iati: this is a debug build; run it with --release for real figures");
    }
    let data = iati_data();
    let xsd = data.join("schemas/iati-activities-schema.xsd");
    if !xsd.is_file() {
        return Err(format!(
            "{} not found; set MERIDIAN_IATI_DATA",
            xsd.display()
        ));
    }
    let work = std::env::temp_dir().join("meridian-bench");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let python = which("python3").ok_or("python3 is needed (with lxml)")?;
    let file = match opts.file {
        Some(f) => f,
        None => derived_file(&data, &work, &python, opts.activities)?,
    };
    let size = std::fs::metadata(&file)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .len();
    let wrapper = work.join("measure.py");
    let lxml = work.join("lxml_validate.py");
    std::fs::write(&wrapper, WRAPPER).map_err(|e| e.to_string())?;
    std::fs::write(&lxml, LXML).map_err(|e| e.to_string())?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = |p: &Path| p.display().to_string();

    let mut tools = vec![
        Tool {
            name: "Meridian (schema + codelists + ruleset)".into(),
            command: vec![path(&me), "--validate-one".into(), path(&file)],
            walls: Vec::new(),
            cpus: Vec::new(),
            inner: Vec::new(),
            peak_kb: 0,
            note: String::new(),
        },
        Tool {
            name: "lxml XMLSchema (parse + validate, schema only)".into(),
            command: vec![path(&python), path(&lxml), path(&xsd), path(&file)],
            walls: Vec::new(),
            cpus: Vec::new(),
            inner: Vec::new(),
            peak_kb: 0,
            note: String::new(),
        },
    ];
    if let Some(xmllint) = which("xmllint") {
        tools.push(Tool {
            name: "xmllint --stream --schema (schema only)".into(),
            command: vec![
                path(&xmllint),
                "--noout".into(),
                "--stream".into(),
                "--schema".into(),
                path(&xsd),
                path(&file),
            ],
            walls: Vec::new(),
            cpus: Vec::new(),
            inner: Vec::new(),
            peak_kb: 0,
            note: String::new(),
        });
    } else {
        eprintln!("bench_iati: xmllint not installed (Debian: libxml2-utils); no xmllint row");
    }

    eprintln!(
        "bench_iati: {} ({:.1} MB), {} runs each",
        file.display(),
        size as f64 / 1e6,
        opts.runs
    );
    for round in 1..=opts.runs {
        for tool in &mut tools {
            let (wall, cpu, peak_kb, output) = measure(&python, &wrapper, &tool.command)?;
            eprintln!(
                "  run {round}: {:<48} {wall:>7.3} s {:>8.1} MB",
                tool.name,
                peak_kb as f64 / 1024.0
            );
            tool.walls.push(wall);
            tool.cpus.push(cpu);
            if let Some(inner) = lxml_inner_seconds(&output) {
                tool.inner.push(inner);
            }
            tool.peak_kb = tool.peak_kb.max(peak_kb);
            tool.note = output;
        }
    }

    // The reference is lxml's own parse + validate time (what the goal is stated against):
    // stricter than its process time, which adds the interpreter's start-up.
    let lxml_inner = tools
        .iter()
        .find(|t| !t.inner.is_empty())
        .map(|t| t.inner.clone());
    if let Some(inner) = &lxml_inner {
        tools.push(Tool {
            name: "lxml, parse + validate only (timed inside the script)".into(),
            command: Vec::new(),
            walls: inner.clone(),
            cpus: Vec::new(),
            inner: Vec::new(),
            peak_kb: tools
                .iter()
                .find(|t| !t.inner.is_empty())
                .map_or(0, |t| t.peak_kb),
            note: String::new(),
        });
    }
    let reference = lxml_inner.map(|v| median(&v));
    println!(
        "File: `{}`, {:.1} MB, {} runs per tool (child processes, interleaved).\n",
        file.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        size as f64 / 1e6,
        opts.runs
    );
    println!(
        "| tool | median s | min s | max s | MB/s | CPU s (median) | peak RSS MB | speed-up vs lxml parse + validate |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for tool in &tools {
        let med = median(&tool.walls);
        let min = tool.walls.iter().copied().fold(f64::INFINITY, f64::min);
        let max = tool.walls.iter().copied().fold(0.0, f64::max);
        let speedup = reference.map_or_else(|| "–".into(), |r| format!("{:.2}×", r / med));
        let cpu = if tool.cpus.is_empty() {
            "–".to_owned()
        } else {
            format!("{:.3}", median(&tool.cpus))
        };
        println!(
            "| {} | {med:.3} | {min:.3} | {max:.3} | {:.1} | {cpu} | {:.1} | {speedup} |",
            tool.name,
            size as f64 / 1e6 / med,
            tool.peak_kb as f64 / 1024.0
        );
    }
    println!();
    for tool in &tools {
        if !tool.note.is_empty() {
            println!("- {}: `{}`", tool.name, tool.note);
        }
    }
    Ok(())
}

/// Runs `command` under the wrapper: (wall seconds, CPU seconds, peak RSS in KiB, the
/// child's last line).
fn measure(
    python: &Path,
    wrapper: &Path,
    command: &[String],
) -> Result<(f64, f64, u64, String), String> {
    let out = Command::new(python)
        .arg(wrapper)
        .args(command)
        .output()
        .map_err(|e| format!("{}: {e}", command.join(" ")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let fields: Vec<&str> = stdout
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let [wall, rss, code, cpu] = fields.as_slice() else {
        return Err(format!("{}: no measurement\n{stderr}", command.join(" ")));
    };
    // Meridian exits 0 with a report; lxml and xmllint exit 0 only when the file is valid.
    if *code != "0" {
        return Err(format!(
            "{} exited with {code}:\n{stderr}",
            command.join(" ")
        ));
    }
    let note = stderr
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned();
    Ok((
        wall.parse().map_err(|_| format!("bad time '{wall}'"))?,
        cpu.parse().map_err(|_| format!("bad CPU time '{cpu}'"))?,
        rss.parse().map_err(|_| format!("bad RSS '{rss}'"))?,
        note,
    ))
}

fn derived_file(
    data: &Path,
    work: &Path,
    python: &Path,
    activities: usize,
) -> Result<PathBuf, String> {
    let file = work.join(format!("iati-derived-{activities}acts.xml"));
    if std::fs::metadata(&file).is_ok_and(|m| m.len() > 0) {
        return Ok(file);
    }
    let script = data.join("samples/derived-perf/make_derived.py");
    eprintln!("bench_iati: building {} …", file.display());
    let partial = file.with_extension("partial");
    let status = Command::new(python)
        .arg(&script)
        .arg(&partial)
        .arg(activities.to_string())
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!(
            "{} failed ({status}); is lxml installed?",
            script.display()
        ));
    }
    std::fs::rename(&partial, &file).map_err(|e| e.to_string())?;
    Ok(file)
}

/// `parse=…s validate=…s` from the lxml script's summary line.
fn lxml_inner_seconds(line: &str) -> Option<f64> {
    let field = |key: &str| -> Option<f64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest[..rest.find('s')?].parse().ok()
    };
    Some(field("parse=")? + field("validate=")?)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
