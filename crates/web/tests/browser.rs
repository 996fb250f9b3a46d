//! Meridian in a real browser: headless Chromium driven through WebDriver (chromedriver).
//!
//! A viewer opens the organization, is sent to sign in, signs in through the form, browses the
//! tree to a regional office, searches focal points (results load through htmx), switches the
//! interface to French and signs out.
//!
//! It runs when `MERIDIAN_TEST_CHROMEDRIVER` names chromedriver (Debian: `apt-get install
//! chromium chromium-driver`, then `MERIDIAN_TEST_CHROMEDRIVER=/usr/bin/chromedriver`); the
//! browser is `/usr/bin/chromium` unless `MERIDIAN_TEST_CHROMIUM` says otherwise. Without it the
//! test says loudly that it was skipped and passes. The database is SQLite, or PostgreSQL when
//! `MERIDIAN_TEST_POSTGRES_URL` is set, as for the other tests.

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::{Countries, UnitCode};
use meridian_store::Store;
use meridian_store::testing::TestDb;
use meridian_store::users::NewUser;
use meridian_web::{AppState, Config, OrgSnapshot};
use serde_json::json;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DRIVER_ENV: &str = "MERIDIAN_TEST_CHROMEDRIVER";
const CHROMIUM_ENV: &str = "MERIDIAN_TEST_CHROMIUM";
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

const EMAIL: &str = "viewer.bkk@example.org";
const PASSWORD: &str = "correct horse battery staple";

/// How long a page, an element or a search result may take to appear.
const WAIT: Duration = Duration::from_secs(10);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);
/// The whole story, so that a stuck browser fails the test instead of hanging it.
const STORY_TIMEOUT: Duration = Duration::from_secs(120);

const REGIONAL_OFFICES: [&str; 9] = [
    "Bangkok",
    "Brussels",
    "Vienna",
    "Buenos Aires",
    "San José",
    "Cairo",
    "Pretoria",
    "Nairobi",
    "Dakar",
];

type Outcome<T = ()> = Result<T, String>;

/// Adds what was being done to a WebDriver error.
trait Context<T> {
    fn context(self, what: impl std::fmt::Display) -> Outcome<T>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl std::fmt::Display) -> Outcome<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_signs_in_browses_searches_switches_to_french_and_signs_out() {
    let driver_path = match std::env::var(DRIVER_ENV) {
        Ok(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            // Straight to the process's stderr, past the test harness's capture, so that the
            // skip shows in an ordinary `cargo test` run.
            let rule = "=".repeat(78);
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n{rule}\nSKIPPED browser test: set {DRIVER_ENV}=/usr/bin/chromedriver to run it \
                 (Debian: apt-get install chromium chromium-driver).\n{rule}\n"
            );
            return;
        }
    };
    let chromium = std::env::var(CHROMIUM_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_CHROMIUM.to_owned());
    assert!(
        driver_path.is_file(),
        "{DRIVER_ENV}={} is not a file",
        driver_path.display()
    );
    assert!(
        Path::new(&chromium).is_file(),
        "the browser {chromium} is not a file (install chromium or set {CHROMIUM_ENV})"
    );

    let app = App::spawn().await;
    let driver = Driver::start(&driver_path).await;
    let profile = tempfile::tempdir().expect("a temporary folder for the browser profile");

    let client = tokio::time::timeout(
        Duration::from_secs(60),
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(&chromium, profile.path()))
            .connect(&driver.url),
    )
    .await
    .unwrap_or_else(|_| driver.fail("no WebDriver session after 60 s"))
    .unwrap_or_else(|e| driver.fail(&format!("chromedriver opens no Chromium session: {e}")));

    let outcome = match tokio::time::timeout(STORY_TIMEOUT, story(&client, &app.url)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!(
            "the story did not finish within {} s",
            STORY_TIMEOUT.as_secs()
        )),
    };
    let page = match &outcome {
        Ok(()) => String::new(),
        Err(_) => describe_page(&client).await,
    };
    // Ending the session makes chromedriver close Chromium; the guard then stops chromedriver.
    let closed = tokio::time::timeout(Duration::from_secs(20), client.close()).await;
    if let Err(message) = outcome {
        panic!("browser test failed: {message}\n{page}");
    }
    match closed {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("the WebDriver session does not close: {e}"),
        Err(_) => panic!("the WebDriver session does not close within 20 s"),
    }
    drop(driver);
    drop(profile);
    drop(app);
}

/// What the browser was showing, for a failure message.
async fn describe_page(client: &Client) -> String {
    let url = match client.current_url().await {
        Ok(url) => url.to_string(),
        Err(e) => format!("(unknown: {e})"),
    };
    let source = match client.source().await {
        Ok(source) => {
            let mut end = source.len().min(6000);
            while !source.is_char_boundary(end) {
                end -= 1;
            }
            source[..end].to_owned()
        }
        Err(e) => format!("(no page source: {e})"),
    };
    format!("the browser is at {url}; the page begins:\n{source}")
}

fn capabilities(chromium: &str, profile: &Path) -> Capabilities {
    let value = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1024",
                "--lang=en-US",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": { "intl.accept_languages": "en-US,en" },
        },
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("the capabilities are an object"),
    }
}

/// The story a person follows, checking at each step what the page shows.
async fn story(c: &Client, base: &str) -> Outcome {
    // A page behind sign-in sends the browser to the sign-in form, remembering where it was going.
    c.goto(&format!("{base}/org")).await.context("open /org")?;
    let email = wait_for(c, Locator::Css("form[action='/login'] input[name='email']"))
        .await
        .context("the sign-in form after opening /org")?;
    let url = c.current_url().await.context("the URL")?;
    ensure!(
        url.path() == "/login",
        "opening /org without a session lands on {url}, not /login"
    );
    let next: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .collect();
    ensure!(
        next == ["/org"],
        "the sign-in page remembers next={next:?}, not /org ({url})"
    );
    expect_heading(c, "Sign in").await?;

    // Sign in through the form.
    email.send_keys(EMAIL).await.context("type the email")?;
    c.find(Locator::Css("form[action='/login'] input[name='password']"))
        .await
        .context("the password field")?
        .send_keys(PASSWORD)
        .await
        .context("type the password")?;
    c.find(Locator::Css("form[action='/login'] button[type='submit']"))
        .await
        .context("the sign-in button")?
        .click()
        .await
        .context("click the sign-in button")?;

    // Back on /org: the tree with the nine regional offices.
    let tree = wait_for(c, Locator::Id("org-tree"))
        .await
        .context("the organization tree after signing in")?;
    expect_path(c, "/org").await?;
    for city in REGIONAL_OFFICES {
        let xpath = format!(".//a[contains(normalize-space(.), '{city}')]");
        let link = tree
            .find(Locator::XPath(&xpath))
            .await
            .context(format_args!("a link naming {city} in #org-tree"))?;
        let text = link.text().await.context("a link's text")?;
        ensure!(
            text.contains("Regional Office") && text.contains(city),
            "the tree's link for {city} reads {text:?}, not a regional office"
        );
    }

    // Follow the Nairobi office to its page: Kenya is among the countries it covers.
    tree.find(Locator::LinkText("Regional Office in Nairobi"))
        .await
        .context("the link \"Regional Office in Nairobi\" in the tree")?
        .click()
        .await
        .context("click \"Regional Office in Nairobi\"")?;
    wait_for(
        c,
        Locator::XPath("//h1[normalize-space(.)='Regional Office in Nairobi']"),
    )
    .await
    .context("the heading of the Nairobi office's page")?;
    expect_path(c, "/org/units/RO-NBO").await?;
    let countries = texts(
        c.find_all(Locator::XPath(
            "//h2[starts-with(normalize-space(.), 'Countries covered')]\
             /following-sibling::ul[1]//a",
        ))
        .await
        .context("the countries covered")?,
    )
    .await?;
    ensure!(
        countries.iter().any(|c| c == "Kenya"),
        "Kenya is not among the countries covered by the Nairobi office: {countries:?}"
    );

    // Search focal points: typing loads results into #results through htmx.
    c.goto(&format!("{base}/org/search"))
        .await
        .context("open /org/search")?;
    let q = wait_for(c, Locator::Id("q"))
        .await
        .context("the search box")?;
    q.click().await.context("focus the search box")?;
    q.send_keys("risk appetite")
        .await
        .context("type in the search box")?;
    let first = first_result_becomes(c, "Risk Management Unit").await?;
    ensure!(
        first == "Risk Management Unit",
        "the first result is {first:?}"
    );

    // Switch to French through the language links.
    c.find(Locator::LinkText("Français"))
        .await
        .context("the language link \"Français\"")?
        .click()
        .await
        .context("click \"Français\"")?;
    wait_for(
        c,
        Locator::XPath("//header//nav//a[@href='/org' and normalize-space(.)='Organisation']"),
    )
    .await
    .context("the French navigation link \"Organisation\"")?;
    let lang = c
        .find(Locator::Css("html"))
        .await
        .context("the html element")?
        .attr("lang")
        .await
        .context("the page's language")?;
    ensure!(
        lang.as_deref() == Some("fr"),
        "after choosing Français the page's language is {lang:?}"
    );
    expect_path(c, "/org/search").await?;

    // Sign out with the header's button: the sign-in page, and the session is gone.
    c.find(Locator::Css(
        "header form[action='/logout'] button[type='submit']",
    ))
    .await
    .context("the sign-out button in the header")?
    .click()
    .await
    .context("click the sign-out button")?;
    wait_for(
        c,
        Locator::Css("form[action='/login'] input[name='password']"),
    )
    .await
    .context("the sign-in form after signing out")?;
    expect_path(c, "/login").await?;
    expect_heading(c, "Connexion").await?;
    ensure!(
        c.find_all(Locator::Css("form[action='/logout']"))
            .await
            .context("look for a sign-out form")?
            .is_empty(),
        "the sign-in page after signing out still offers to sign out"
    );
    c.goto(&format!("{base}/org"))
        .await
        .context("open /org after signing out")?;
    wait_for(
        c,
        Locator::Css("form[action='/login'] input[name='password']"),
    )
    .await
    .context("the sign-in form when opening /org after signing out")?;
    expect_path(c, "/login").await?;
    Ok(())
}

async fn wait_for(c: &Client, locator: Locator<'_>) -> Outcome<Element> {
    c.wait()
        .at_most(WAIT)
        .every(POLL)
        .for_element(locator)
        .await
        .map_err(|e| format!("not there within {} s ({e})", WAIT.as_secs()))
}

async fn expect_path(c: &Client, path: &str) -> Outcome {
    let url = c.current_url().await.context("the URL")?;
    ensure!(url.path() == path, "the browser is at {url}, not {path}");
    Ok(())
}

async fn expect_heading(c: &Client, heading: &str) -> Outcome {
    let h1 = c
        .find(Locator::Css("main h1"))
        .await
        .context("the page's heading")?
        .text()
        .await
        .context("the heading's text")?;
    ensure!(
        h1 == heading,
        "the page's heading is {h1:?}, not {heading:?}"
    );
    Ok(())
}

async fn texts(elements: Vec<Element>) -> Outcome<Vec<String>> {
    let mut out = Vec::with_capacity(elements.len());
    for e in elements {
        out.push(e.text().await.context("an element's text")?);
    }
    Ok(out)
}

/// Polls until the first search result's link reads `expected`; htmx may swap the results
/// while they are read, so a vanished element only means "look again".
async fn first_result_becomes(c: &Client, expected: &str) -> Outcome<String> {
    let deadline = Instant::now() + WAIT;
    let mut last = String::from("no results yet");
    loop {
        match c
            .find_all(Locator::Css("#results ol.results > li:first-child > a"))
            .await
        {
            Ok(found) => match found.first() {
                Some(link) => match link.text().await {
                    Ok(text) if text == expected => return Ok(text),
                    Ok(text) => last = format!("the first result reads {text:?}"),
                    Err(e) => last = format!("the first result could not be read: {e}"),
                },
                None => {
                    if let Ok(results) = c.find(Locator::Id("results")).await
                        && let Ok(text) = results.text().await
                        && !text.trim().is_empty()
                    {
                        last = format!("#results shows {:?}", text.trim());
                    }
                }
            },
            Err(e) => last = format!("looking for results failed: {e}"),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the first search result is not {expected:?} within {} s: {last}",
                WAIT.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The application on a free port with a fresh database, the built-in organization and one
/// viewer of the Bangkok office.
struct App {
    url: String,
    _db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl App {
    async fn spawn() -> Self {
        let operator = Actor::Operator {
            label: "browser test".into(),
        };
        let db = TestDb::new().await;
        let store = Store::connect(&db.url)
            .await
            .expect("the test database opens");
        let countries = Countries::builtin();
        store
            .load_organization(
                &operator,
                None,
                &meridian_domain::builtin::organization(),
                &countries,
            )
            .await
            .expect("the built-in organization loads");
        let stored = store
            .organization()
            .await
            .expect("the organization reads back");
        let state = AppState::new(
            store.clone(),
            OrgSnapshot::new(stored, countries),
            Config::default(),
        );
        store
            .create_user(
                &state.org().org,
                &operator,
                NewUser {
                    email: EMAIL.into(),
                    name: "Browser Test".into(),
                    unit: UnitCode::parse("RO-BKK").expect("a unit code"),
                    roles: vec![Role::Viewer],
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .expect("the viewer is created");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the application");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let server = tokio::spawn(async move {
            meridian_web::serve(listener, state, std::future::pending())
                .await
                .expect("the application serves");
        });
        Self {
            url,
            _db: db,
            server,
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// chromedriver on a free port, in its own process group so that stopping it also stops any
/// Chromium it left behind. It is stopped when dropped, whether the test passed or panicked.
struct Driver {
    url: String,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Driver {
    async fn start(path: &Path) -> Self {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port for chromedriver")
            .port();
        let dir = tempfile::tempdir().expect("a temporary folder for chromedriver's log");
        let log = dir.path().join("chromedriver.log");
        let out = File::create(&log).expect("chromedriver's log file");
        let err = out.try_clone().expect("chromedriver's log file");
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let mut driver = Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
            log,
            _dir: dir,
        };
        driver.wait_until_ready().await;
        driver
    }

    /// Polls `/status` until chromedriver says it is ready.
    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.fail(&format!("chromedriver exited at start ({status})"));
            }
            match http.get(format!("{}/status", self.url)).send().await {
                Ok(r) => match r.json::<serde_json::Value>().await {
                    Ok(body) if body["value"]["ready"] == json!(true) => return,
                    Ok(body) => last = format!("not ready: {body}"),
                    Err(e) => last = format!("an unreadable status: {e}"),
                },
                Err(e) => last = e.to_string(),
            }
            if Instant::now() >= deadline {
                self.fail(&format!("chromedriver is not ready within 20 s: {last}"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Fails the test; dropping the driver then shows the end of chromedriver's log.
    fn fail(&self, message: &str) -> ! {
        panic!("{message} (chromedriver at {})", self.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser it started.
        let group = format!("kill -KILL -- -{} 2>/dev/null", self.child.id());
        let killed = Command::new("/bin/sh")
            .args(["-c", &group])
            .status()
            .is_ok_and(|s| s.success());
        if !killed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "chromedriver's log ends with:\n{}",
                lines[lines.len().saturating_sub(40)..].join("\n")
            );
        }
    }
}
