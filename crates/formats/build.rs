//! Compacts the IATI codelists shipped in `data/iati/codelists/xml/` into a code list the
//! binary embeds: names, descriptions and translations are dropped, codes and their status
//! kept. Output line format: `=Name<TAB>embedded<TAB>complete`, then one code a line,
//! prefixed with `~` when the code is withdrawn.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

use quick_xml::Reader;
use quick_xml::events::Event;

fn main() {
    let dir = Path::new("data/iati/codelists/xml");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("codelist folder")
        .map(|e| e.expect("codelist entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let mut out = String::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("codelist file");
        compact(&text, &mut out).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let target = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("codelists.txt");
    fs::write(target, out).expect("write compacted codelists");
}

fn compact(text: &str, out: &mut String) -> Result<(), String> {
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut withdrawn = false;
    let mut code = String::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                let attr = |key: &str| {
                    e.try_get_attribute(key)
                        .ok()
                        .flatten()
                        .map(|a| a.value.into_owned())
                };
                if name == "codelist" && path.is_empty() {
                    let _ = writeln!(
                        out,
                        "={}\t{}\t{}",
                        attr("name").ok_or("codelist without name")?,
                        attr("embedded").unwrap_or_else(|| "0".into()),
                        attr("complete").unwrap_or_else(|| "1".into())
                    );
                }
                if name == "codelist-item" {
                    withdrawn = attr("status").as_deref() == Some("withdrawn");
                }
                if name == "code" {
                    code.clear();
                }
                path.push(name);
            }
            Event::Text(t) if path.last().map(String::as_str) == Some("code") => {
                code.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if path.last().map(String::as_str) == Some("code") => {
                code.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    _ => "'",
                });
            }
            Event::End(_) => {
                let closed = path.pop();
                let parent = path.last().map(String::as_str);
                if closed.as_deref() == Some("code") && parent == Some("codelist-item") {
                    let _ = writeln!(out, "{}{}", if withdrawn { "~" } else { "" }, code.trim());
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}
