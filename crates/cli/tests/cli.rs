//! The `meridian` binary as an operator uses it.

use meridian_store::testing::TestDb;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

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

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[tokio::test]
async fn org_check_names_the_offending_entry_of_a_bad_file() {
    let db = TestDb::new().await;
    let good = meridian(
        &db,
        &[
            "org",
            "check",
            repo("data/organization.toml").to_str().unwrap(),
        ],
    );
    assert!(good.status.success(), "{}", stderr(&good));
    assert!(stdout(&good).contains("is valid") && stdout(&good).contains("9 regional offices"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("org.toml");
    let text = std::fs::read_to_string(repo("data/organization.toml")).unwrap();
    std::fs::write(&bad, text.replacen("covers = [", "covers = [\"ZZZ\", ", 1)).unwrap();
    let out = meridian(&db, &["org", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("org.toml") && err.contains("unit RO-") && err.contains("ZZZ"),
        "{err}"
    );
}

#[tokio::test]
async fn an_operator_manages_accounts_from_the_command_line() {
    let db = TestDb::new().await;
    let early = meridian(
        &db,
        &[
            "user",
            "add",
            "a@example.org",
            "--unit",
            "CO-KEN",
            "--role",
            "viewer",
        ],
    );
    assert_eq!(early.status.code(), Some(1));
    assert!(
        stderr(&early).contains("meridian org load"),
        "{}",
        stderr(&early)
    );

    let load = meridian(&db, &["org", "load"]);
    assert!(load.status.success(), "{}", stderr(&load));
    assert!(
        stdout(&load).contains("226 units added"),
        "{}",
        stdout(&load)
    );
    assert!(stdout(&meridian(&db, &["org", "load"])).contains("up to date"));

    let add = meridian(
        &db,
        &[
            "user",
            "add",
            "amina@example.org",
            "--unit",
            "CO-KEN",
            "--role",
            "project_developer,viewer",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let text = stdout(&add);
    assert!(
        text.contains("Created amina@example.org in CO-KEN with roles viewer,project_developer"),
        "{text}"
    );
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("Password (one-time, to be changed at first sign-in): "))
        .unwrap();
    assert_eq!(password.len(), 20);

    let mut child = Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args([
            "user",
            "add",
            "omar@example.org",
            "--unit",
            "RO-NBO",
            "--role",
            "administrator",
            "--password-stdin",
        ])
        .env("MERIDIAN_DATABASE_URL", &db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a chosen passphrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        !stdout(&out).contains("Password"),
        "no password is printed when one was given"
    );

    let unknown = meridian(
        &db,
        &[
            "user",
            "add",
            "x@example.org",
            "--unit",
            "NOPE",
            "--role",
            "viewer",
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no unit with the code NOPE"));
    let bad_role = meridian(
        &db,
        &[
            "user",
            "add",
            "x@example.org",
            "--unit",
            "CO-KEN",
            "--role",
            "emperor",
        ],
    );
    assert!(stderr(&bad_role).contains("unknown role"));

    let list = stdout(&meridian(&db, &["user", "list"]));
    assert!(
        list.contains("amina@example.org")
            && list.contains("omar@example.org")
            && !list.contains("x@example.org"),
        "{list}"
    );

    let token = meridian(&db, &["user", "token", "amina@example.org"]);
    assert!(token.status.success());
    assert!(stdout(&token).trim().starts_with("mrd_"));

    let disable = meridian(&db, &["user", "disable", "amina@example.org"]);
    assert!(stdout(&disable).contains("Disabled amina@example.org"));
    let list = stdout(&meridian(&db, &["user", "list"]));
    let line = list
        .lines()
        .find(|l| l.starts_with("amina@example.org"))
        .unwrap();
    assert!(line.contains("disabled"), "{line}");
}

#[tokio::test]
async fn the_first_start_creates_an_administrator_and_serves() {
    let db = TestDb::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("MERIDIAN_DATABASE_URL", &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let out = child.stdout.take().unwrap();
    let _guard = Kill(child);
    let mut lines = BufReader::new(out).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("serve prints until it listens")
            .unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("Meridian is listening on ") {
            break rest.split(' ').next().unwrap().to_owned();
        }
    };
    let text = printed.join("\n");
    assert!(text.contains("email:    admin@meridian.local"), "{text}");
    let password = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap()
        .to_owned();
    assert!(password.len() >= 20);
    assert!(!text.contains("admin123") && !text.contains("changeme"));

    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let login = client
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "admin@meridian.local", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let body: serde_json::Value = login.json().await.unwrap();
    assert_eq!(body["user"]["must_change_password"], true);
    assert_eq!(body["user"]["roles"], serde_json::json!(["administrator"]));
}

#[test]
fn iati_validate_answers_with_the_exit_code_and_locates_problems() {
    let samples = repo("../shared/data/iati/samples");
    assert!(
        samples.exists(),
        "the shared IATI samples are beside the repository: {}",
        samples.display()
    );
    let valid = samples.join("real-2.0x/iom_XM-DAC-47066-DP.2154_wrapped.xml");
    let invalid =
        samples.join("real-2.0x/undp_XM-DAC-41114_gabon_INVALID_condition-type-line70077.xml");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_meridian"))
            .args(args)
            .output()
            .unwrap()
    };

    let ok = run(&["iati", "validate", valid.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));

    let bad = run(&["iati", "validate", invalid.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stdout(&bad).contains("70077"),
        "the error is located: {}",
        stdout(&bad)
    );

    let json = run(&[
        "iati",
        "validate",
        "--format",
        "json",
        valid.to_str().unwrap(),
        invalid.to_str().unwrap(),
    ]);
    assert_eq!(json.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(reports.as_array().unwrap().len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.xml");
    let text = std::fs::read_to_string(&valid).unwrap();
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let out = run(&["iati", "validate", truncated.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let missing = run(&["iati", "validate", "/no/such/file.xml"]);
    assert_eq!(missing.status.code(), Some(2));

    // Compressed, the same verdicts, located in the unpacked text; damaged, unreadable.
    let pack = |from: &std::path::Path, to: &str| {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&std::fs::read(from).unwrap()).unwrap();
        let path = dir.path().join(to);
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        path
    };
    let valid_gz = pack(&valid, "valid.xml.gz");
    let ok = run(&["iati", "validate", valid_gz.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let invalid_gz = pack(&invalid, "invalid.xml.gz");
    let bad_gz = run(&["iati", "validate", invalid_gz.to_str().unwrap()]);
    assert_eq!(bad_gz.status.code(), Some(1));
    assert_eq!(
        stdout(&bad_gz).replace(invalid_gz.to_str().unwrap(), "FILE"),
        stdout(&bad).replace(invalid.to_str().unwrap(), "FILE"),
        "the same findings at the same places"
    );
    let mut damaged = std::fs::read(&valid_gz).unwrap();
    damaged.truncate(damaged.len() - 20);
    let damaged_gz = dir.path().join("damaged.xml.gz");
    std::fs::write(&damaged_gz, damaged).unwrap();
    let out = run(&["iati", "validate", damaged_gz.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
}
