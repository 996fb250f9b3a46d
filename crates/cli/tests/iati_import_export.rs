//! `meridian import iati` and `meridian export iati` as an operator runs them.

use meridian_store::testing::TestDb;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn meridian(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(args)
        .env("MERIDIAN_DATABASE_URL", &db.url)
        .env("USER", "ops")
        .output()
        .expect("meridian runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn data() -> PathBuf {
    let dir = std::env::var("MERIDIAN_IATI_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati")
        });
    assert!(dir.is_dir(), "IATI data not found at {}", dir.display());
    dir
}

fn sample(path: &str) -> String {
    data().join("samples").join(path).display().to_string()
}

async fn with_org() -> TestDb {
    let db = TestDb::new().await;
    let out = meridian(&db, &["org", "load"]);
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

/// The official schema through xmllint, when installed; says so loudly when it is not.
fn xmllint(file: &Path) {
    if Command::new("xmllint").arg("--version").output().is_err() {
        eprintln!(
            "\n*** xmllint NOT FOUND on PATH: {} was NOT checked against the official XSD (install libxml2-utils) ***\n",
            file.display()
        );
        return;
    }
    let schema = data().join("schemas/iati-activities-schema.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmllint refuses {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn an_operator_imports_reimports_and_exports_activities() {
    let db = with_org().await;
    let iom = sample("real-2.0x/iom_XM-DAC-47066-DP.2154_wrapped.xml");
    let out = meridian(&db, &["import", "iati", &iom]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("1 activities: 1 created, 0 updated, 0 unchanged, 0 refused"),
        "{text}"
    );
    assert!(text.contains("MB/s"), "{text}");
    assert!(text.contains("contact-info ×1"), "{text}");

    // The same file again: nothing to write.
    let again = meridian(&db, &["import", "iati", &iom]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).contains("0 created, 0 updated, 1 unchanged"),
        "{}",
        stdout(&again)
    );
    // Unless asked.
    let again = meridian(&db, &["import", "iati", "--rewrite-unchanged", &iom]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).contains("0 created, 1 updated, 0 unchanged"),
        "{}",
        stdout(&again)
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.xml");
    let out = meridian(&db, &["export", "iati", "-o", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 activities exported"),
        "{}",
        stderr(&out)
    );
    let xml = std::fs::read_to_string(&file).unwrap();
    assert!(xml.contains("<iati-identifier>XM-DAC-47066-DP.2154</iati-identifier>"));
    xmllint(&file);
    // The export validates with Meridian's own validator's schema layer too, and imports
    // back as an update.
    let check = meridian(
        &db,
        &[
            "iati",
            "validate",
            "--format",
            "json",
            file.to_str().unwrap(),
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let findings = report[0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        findings
            .iter()
            .all(|f| f["layer"] != "schema" && f["layer"] != "document"),
        "{findings:#?}"
    );
    let back = meridian(&db, &["import", "iati", file.to_str().unwrap()]);
    assert!(
        stdout(&back).contains("0 created, 1 updated"),
        "{}",
        stdout(&back)
    );

    // Standard output by default; an office filter.
    let out = meridian(&db, &["export", "iati", "--unit", "CO-KEN"]);
    assert!(out.status.success());
    assert!(!stdout(&out).contains("<iati-activity"), "{}", stdout(&out));
    assert!(stdout(&out).contains("<iati-activities version=\"2.03\""));
}

#[tokio::test]
async fn refused_activities_are_located_and_all_or_nothing_holds() {
    let db = with_org().await;
    // No EUR exchange rate in a fresh database, and regional activities with no office.
    let fi = sample("real-2.0x/fi-3_finland_6acts_line-br.xml");
    let out = meridian(&db, &["import", "iati", &fi]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("line 2, column 1: activity FI-3-2020- 2020000056"),
        "{text}"
    );
    assert!(text.contains("add the exchange rates for EUR"), "{text}");
    assert!(text.contains("nothing was imported"), "{text}");

    // A folder, keeping what passes: the USD files come in, the others are listed.
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "real-2.0x/us-gov-1_3acts_one-with-errors.xml",
        "real-2.0x/fi-3_finland_6acts_line-br.xml",
        "real-2.0x/undp_XM-DAC-41114_gabon_INVALID_condition-type-line70077.xml",
    ] {
        let name = Path::new(f).file_name().unwrap();
        std::fs::copy(data().join("samples").join(f), dir.path().join(name)).unwrap();
    }
    let out = meridian(
        &db,
        &[
            "import",
            "iati",
            dir.path().to_str().unwrap(),
            "--keep-valid",
            "--default-unit",
            "RO-NBO",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("3 activities: 3 created"), "{text}");
    assert!(
        text.contains("Element 'condition': The attribute 'type' is required"),
        "{text}"
    );
    assert!(
        text.contains("3 files: 3 created, 0 updated, 0 unchanged, 7 refused"),
        "{text}"
    );
}

#[tokio::test]
async fn a_truncated_file_is_unreadable_and_changes_nothing() {
    let db = with_org().await;
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.xml");
    let bytes = std::fs::read(sample("real-2.0x/us-gov-1_3acts_one-with-errors.xml")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = meridian(
        &db,
        &["import", "iati", cut.to_str().unwrap(), "--keep-valid"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("broken XML") || text.contains("truncated"),
        "{text}"
    );
    assert!(text.contains("nothing was imported"), "{text}");
    assert!(stdout(&out).contains("0 created"), "{}", stdout(&out));
    let missing = meridian(&db, &["import", "iati", "/nonexistent/file.xml"]);
    assert_eq!(missing.status.code(), Some(2));
    let export = meridian(&db, &["export", "iati"]);
    assert!(!stdout(&export).contains("<iati-activity"));
}

/// A folder's `.xml.gz` files are unpacked and imported like its `.xml` files; other files are
/// left alone; a damaged one is named, imports nothing and does not stop the others.
#[tokio::test]
async fn compressed_files_in_a_folder_are_imported_and_a_damaged_one_is_named() {
    use std::io::Write;
    let db = with_org().await;
    let dir = tempfile::tempdir().unwrap();
    let iom = std::fs::read(sample("real-2.0x/iom_XM-DAC-47066-DP.2154_wrapped.xml")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&iom).unwrap();
    let packed = gz.finish().unwrap();
    std::fs::write(dir.path().join("a-iom.xml.gz"), &packed).unwrap();
    std::fs::write(
        dir.path().join("b-damaged.xml.gz"),
        &packed[..packed.len() / 2],
    )
    .unwrap();
    std::fs::write(dir.path().join("c-notes.txt.gz"), &packed).unwrap();

    let out = meridian(&db, &["import", "iati", dir.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("a-iom.xml.gz: 1 activities: 1 created"),
        "{text}"
    );
    assert!(
        text.contains("b-damaged.xml.gz: not imported: the file is gzip-compressed but could not be unpacked after"),
        "{text}"
    );
    assert!(!text.contains("c-notes"), "{text}");
    let export = meridian(&db, &["export", "iati"]);
    assert!(
        stdout(&export).contains("<iati-identifier>XM-DAC-47066-DP.2154</iati-identifier>"),
        "{}",
        stderr(&export)
    );
}

#[tokio::test]
async fn a_legacy_file_is_upgraded_with_an_account_of_what_changed() {
    let db = with_org().await;
    let out = meridian(
        &db,
        &[
            "import",
            "iati",
            &sample("real-legacy-1.x/datastore_CD.xml"),
            "--keep-valid",
            "--default-unit",
            "RO-NBO",
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("version 1.01 upgraded to 2.03"), "{text}");
    assert!(
        text.contains("activity-date/@type 'start-planned' → 1"),
        "{text}"
    );
    assert!(text.contains("dropped: 1 ir:registry-record"), "{text}");
    // GBP has no rate in a fresh database: those activities are refused, by line.
    assert!(text.contains("add the exchange rates for GBP"), "{text}");
}

#[tokio::test]
async fn the_demo_portfolio_exports_to_valid_iati() {
    let db = with_org().await;
    let demo = meridian(&db, &["demo", "--scale", "1"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.xml");
    let out = meridian(&db, &["export", "iati", "-o", all.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let published = dir.path().join("published.xml");
    let out2 = meridian(
        &db,
        &[
            "export",
            "iati",
            "--published-only",
            "-o",
            published.to_str().unwrap(),
        ],
    );
    assert!(out2.status.success(), "{}", stderr(&out2));
    let count = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap()
            .matches("<iati-activity ")
            .count()
            + std::fs::read_to_string(p)
                .unwrap()
                .matches("<iati-activity>")
                .count()
    };
    let (n_all, n_pub) = (count(&all), count(&published));
    assert!(n_all > 200, "{n_all} activities");
    assert!(n_pub > 0 && n_pub < n_all, "{n_pub} of {n_all} published");
    xmllint(&all);
    xmllint(&published);
}
