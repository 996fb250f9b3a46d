//! Validates IATI files and prints the report: `cargo run --release --example validate -- FILE...`
//! (`--json` for JSON). Exit code 0 when all are valid, 1 when one is not, 2 when one cannot
//! be read — what `meridian iati validate` does.

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use meridian_formats::iati::{ValidateOptions, validate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let mut code = 0;
    for path in args.iter().filter(|a| !a.starts_with("--")) {
        let started = Instant::now();
        let report = match File::open(path).map(BufReader::new) {
            Ok(file) => validate(file, &ValidateOptions::default()),
            Err(e) => Err(e.into()),
        };
        match report {
            Ok(report) => {
                if json {
                    println!("{}", report.to_json(path));
                } else {
                    print!("{}", report.to_human(path));
                    eprintln!(
                        "{path}: checked in {:.3} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                if !report.is_valid() && code == 0 {
                    code = 1;
                }
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                code = 2;
            }
        }
    }
    std::process::exit(code);
}
