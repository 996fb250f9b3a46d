//! Meridian in a real browser: headless Chromium driven through WebDriver (chromedriver).
//!
//! A viewer opens the organization, is sent to sign in, signs in through the form, browses the
//! tree to a regional office, searches focal points (results load through htmx), switches the
//! interface to French and signs out.
//!
//! A project goes from draft to approval through its pages with three people: a project
//! developer in Kenya drafts it with the form and submits it, a reviewer of the Nairobi regional
//! office finds it in her review queue, starts the review and endorses it, the drafter submits
//! it to the donor, and an approver at headquarters approves it (with the keyboard). Each
//! decision shows in the history with its delegation chain. With `MERIDIAN_TEST_SCREENSHOTS` set
//! to a folder, the story ends by saving screenshots of the project and analytics pages there,
//! at a desktop's and a phone's width.
//!
//! A project developer of a regional office uploads a donor's IATI file through the IATI tab:
//! refused whole first (one activity is outside her authority), then imported without it; the
//! new projects are in the portfolio.
//!
//! It runs when `MERIDIAN_TEST_CHROMEDRIVER` names chromedriver (Debian: `apt-get install
//! chromium chromium-driver`, then `MERIDIAN_TEST_CHROMEDRIVER=/usr/bin/chromedriver`); the
//! browser is `/usr/bin/chromium` unless `MERIDIAN_TEST_CHROMIUM` says otherwise. Without it the
//! test says loudly that it was skipped and passes. The database is SQLite, or PostgreSQL when
//! `MERIDIAN_TEST_POSTGRES_URL` is set, as for the other tests.

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::{Countries, UnitCode};
use meridian_store::Store;
use meridian_store::projects::DelegationInput;
use meridian_store::testing::TestDb;
use meridian_store::users::NewUser;
use meridian_web::{AppState, Config, OrgSnapshot};
use serde_json::json;
use std::fs::File;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DRIVER_ENV: &str = "MERIDIAN_TEST_CHROMEDRIVER";
const CHROMIUM_ENV: &str = "MERIDIAN_TEST_CHROMIUM";
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

const EMAIL: &str = "viewer.bkk@example.org";
const PASSWORD: &str = "correct horse battery staple";
const SCREENSHOTS_ENV: &str = "MERIDIAN_TEST_SCREENSHOTS";

const DRAFTER: &str = "amina@example.org";
const REVIEWER: &str = "omar@example.org";
const APPROVER: &str = "li@example.org";
const PROJECT_TITLE: &str = "Safe migration information for young people";
const PROJECT_CODE: &str = "CO-KEN-2026-0001";
const REPORTER: &str = "wanjiru@example.org";
const VALIDATOR: &str = "otieno@example.org";

/// How long a page, an element or a search result may take to appear.
const WAIT: Duration = Duration::from_secs(10);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);
/// The whole story, so that a stuck browser fails the test instead of hanging it.
const STORY_TIMEOUT: Duration = Duration::from_secs(120);
/// The project's story signs in four times (Argon2 in a debug build is slow).
const PROJECT_STORY_TIMEOUT: Duration = Duration::from_secs(300);

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

/// A story a person follows in the browser, against the running application.
type Story = for<'a> fn(&'a Client, &'a App) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

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
    let Some(browser) = Browser::from_env() else {
        return;
    };
    let app = App::spawn().await;
    app.user(EMAIL, "RO-BKK", Role::Viewer).await;
    browser.run(&app, viewer_story, STORY_TIMEOUT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_goes_from_draft_to_approval_through_its_pages() {
    let Some(browser) = Browser::from_env() else {
        return;
    };
    let app = App::spawn().await;
    app.user(DRAFTER, "CO-KEN", Role::ProjectDeveloper).await;
    app.user(REVIEWER, "RO-NBO", Role::RegionalReviewer).await;
    app.user(APPROVER, "DSPOP-PRIMA", Role::Approver).await;
    app.rates_and_delegations().await;
    browser
        .run(&app, project_story, PROJECT_STORY_TIMEOUT)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_entered_submitted_and_approved_through_the_pages() {
    let Some(browser) = Browser::from_env() else {
        return;
    };
    let app = App::spawn().await;
    app.user(REPORTER, "CO-KEN", Role::MeOfficer).await;
    app.user(VALIDATOR, "CO-KEN", Role::MeOfficer).await;
    app.results_matrix().await;
    browser
        .run(&app, results_story, PROJECT_STORY_TIMEOUT)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indicator_is_edited_values_entered_per_combination_and_a_result_deleted() {
    let Some(browser) = Browser::from_env() else {
        return;
    };
    let app = App::spawn().await;
    app.user(REPORTER, "CO-KEN", Role::MeOfficer).await;
    app.results_matrix().await;
    app.second_result().await;
    browser
        .run(&app, results_editing_story, PROJECT_STORY_TIMEOUT)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_donor_s_iati_file_is_uploaded_through_the_page() {
    let Some(browser) = Browser::from_env() else {
        return;
    };
    let app = App::spawn().await;
    app.user(IATI_IMPORTER, "RO-NBO", Role::ProjectDeveloper)
        .await;
    app.rates_and_delegations().await;
    browser.run(&app, iati_story, STORY_TIMEOUT).await;
}

const IATI_IMPORTER: &str = "fatuma@example.org";

fn iati_story<'a>(
    c: &'a Client,
    app: &'a App,
) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(iati_upload(c, &app.url))
}

/// A project developer of the Nairobi regional office uploads Finland's six activities: the
/// file is refused whole (one is in Benin, outside her authority), then imported without that
/// one, and the new projects are in the portfolio.
async fn iati_upload(c: &Client, base: &str) -> Outcome {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/iati/samples/real-2.0x/fi-3_finland_6acts_line-br.xml")
        .canonicalize()
        .context("the Finnish sample")?;
    sign_in(c, base, IATI_IMPORTER).await?;
    c.goto(&format!("{base}/projects"))
        .await
        .context("open the portfolio")?;
    wait_for(
        c,
        Locator::XPath("//nav[contains(@class,'tabs')]//a[normalize-space(.)='IATI']"),
    )
    .await
    .context("the IATI tab")?
    .click()
    .await
    .context("open the IATI tab")?;
    expect_heading(c, "IATI import and export").await?;
    c.find(Locator::Id("iati-file"))
        .await
        .context("the file field")?
        .send_keys(&file.display().to_string())
        .await
        .context("choose the file")?;
    press(c, "Import").await?;
    let refused = wait_for(c, Locator::Id("iati-import-errors"))
        .await
        .context("the refusal")?
        .text()
        .await
        .context("the refusal's text")?;
    ensure!(
        refused.contains("nothing was imported"),
        "the refusal says: {refused}"
    );
    let table = c
        .find(Locator::Id("iati-refused"))
        .await
        .context("the refused activities")?
        .text()
        .await
        .context("their text")?;
    ensure!(table.contains("CO-BEN"), "the refused activities: {table}");
    c.find(Locator::Css("#iati-import input[name='keep_valid']"))
        .await
        .context("the keep-valid box")?
        .click()
        .await
        .context("tick keep-valid")?;
    press(c, "Import").await?;
    let done = wait_for(c, Locator::Id("iati-import-done"))
        .await
        .context("the import's summary")?
        .text()
        .await
        .context("the summary's text")?;
    ensure!(done.contains("new projects 5"), "the summary says: {done}");
    // The upload's progress bar went to the file's size and then said the file was in.
    let upload = c
        .execute(
            "const s = document.getElementById('iati-importing'); \
             const bar = s.querySelector('progress.upload'); \
             return [bar.value, bar.max, s.hasAttribute('data-sent')];",
            vec![],
        )
        .await
        .context("the upload's progress")?;
    let size = std::fs::metadata(&file).context("the file's size")?.len();
    ensure!(
        upload[0].as_f64() == upload[1].as_f64()
            && upload[1].as_f64().is_some_and(|max| max >= size as f64)
            && upload[2] == json!(true),
        "the upload's progress [value, max, sent] is {upload} for a file of {size} bytes"
    );
    let importing = c
        .find(Locator::Id("iati-importing"))
        .await
        .context("the \"Importing…\" line")?
        .is_displayed()
        .await
        .context("whether it shows")?;
    ensure!(
        !importing,
        "\"Importing…\" still shows after the answer came"
    );
    c.goto(&format!("{base}/projects"))
        .await
        .context("open the portfolio")?;
    wait_for(c, Locator::XPath("//main//table"))
        .await
        .context("the portfolio's table")?;
    let portfolio = main_text(c).await?;
    ensure!(
        portfolio.contains("Teacher Education") && portfolio.contains("CO-ERI-2020-0001"),
        "the portfolio does not show the imported project: {portfolio}"
    );
    sign_out(c).await
}

fn results_editing_story<'a>(
    c: &'a Client,
    app: &'a App,
) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(results_editing(c, app))
}

/// An M&E officer edits an indicator through its form (a new title and target, and age group
/// beside sex), enters a quarter's figures per sex × age group in the entry table, saves them
/// as a draft, sees the figures per sex worked out, submits them, and deletes a result that
/// has no reports.
async fn results_editing(c: &Client, app: &App) -> Outcome {
    let base = app.url.as_str();
    let framework = app
        .store
        .results_framework(&app.state.org().org, &operator(), PROJECT_CODE)
        .await
        .map_err(|e| format!("the matrix reads: {e}"))?;
    let indicator = framework.results[0].indicators[0].id.as_str();
    let doomed = framework.results[1].id.as_str();
    let page = format!("{base}/projects/{PROJECT_CODE}/results");
    sign_in(c, base, REPORTER).await?;
    c.goto(&page).await.context("open the results matrix")?;

    // The indicator's form, from its "Edit" link.
    wait_for(
        c,
        Locator::Css(&format!("a[href$='/indicator/{indicator}/edit']")),
    )
    .await
    .context("the indicator's \"Edit\" link")?
    .click()
    .await
    .context("open the indicator's form")?;
    wait_for(c, Locator::Css("form#edit-indicator"))
        .await
        .context("the indicator's form")?;
    expect_heading(c, "Edit the indicator").await?;
    screenshot(c, "results-indicator-edit", 1280, 1800).await?;
    replace_text(c, "e-title", "Returnees assisted to reintegrate").await?;
    replace_text(c, "e-target", "450").await?;
    c.find(Locator::Id("e-cat-age_group"))
        .await
        .context("the age group box")?
        .click()
        .await
        .context("tick age group")?;
    c.find(Locator::XPath(
        "//form[@id='edit-indicator']//button[normalize-space(.)='Save']",
    ))
    .await
    .context("the form's \"Save\" button")?
    .click()
    .await
    .context("save the indicator")?;
    wait_for(
        c,
        Locator::XPath("//main//h4[normalize-space(.)='Returnees assisted to reintegrate']"),
    )
    .await
    .context("the matrix shows the new title")?;
    let block = c
        .find(Locator::Id(&format!("ind-{indicator}")))
        .await
        .context("the indicator's block")?
        .text()
        .await
        .context("the indicator's text")?;
    ensure!(
        block.contains("Sex, Age group") && block.contains("450"),
        "the indicator does not show its new categories and target:\n{block}"
    );

    // A quarter's figures per sex × age group, in the entry table.
    wait_for(
        c,
        Locator::XPath("(//main//summary[normalize-space(.)='Enter values'])[1]"),
    )
    .await
    .context("the first \"Enter values\"")?
    .click()
    .await
    .context("open the first report form")?;
    let q1 = "2026-01-01";
    wait_for(
        c,
        Locator::XPath(
            "//table[contains(@class, 'combos')]/caption[contains(., 'Sex × Age group')]",
        ),
    )
    .await
    .context("the entry table per sex × age group")?;
    type_into(c, &format!("total-{indicator}-{q1}"), "12").await?;
    let cells = [
        ("female", "age_0_17", "2"),
        ("female", "age_18_59", "4"),
        ("female", "age_60_plus", "1"),
        ("male", "age_0_17", "1"),
        ("male", "age_18_59", "3"),
        ("male", "age_60_plus", "1"),
        ("other_unknown", "age_0_17", "0"),
        ("other_unknown", "age_18_59", "0"),
        ("other_unknown", "age_60_plus", "0"),
    ];
    for (sex, age, figure) in cells {
        type_into(
            c,
            &format!("v-{indicator}-{q1}-age_group={age};sex={sex}"),
            figure,
        )
        .await?;
    }
    c.find(Locator::XPath(&format!(
        "//form[.//input[@id='total-{indicator}-{q1}']]//button[@value='save']"
    )))
    .await
    .context("the \"Save draft\" button")?
    .click()
    .await
    .context("save the draft")?;
    wait_for(
        c,
        Locator::XPath("//main//span[contains(@class, 'v-draft')]"),
    )
    .await
    .context("the report shows as a draft")?;
    // The figures per sex are worked out beside the table's rows.
    c.find(Locator::XPath(
        "(//main//summary[normalize-space(.)='Enter values'])[1]",
    ))
    .await
    .context("\"Enter values\" again")?
    .click()
    .await
    .context("open the report form again")?;
    let female_18_59 = c
        .find(Locator::Id(&format!(
            "v-{indicator}-{q1}-age_group=age_18_59;sex=female"
        )))
        .await
        .context("the female 18–59 cell")?
        .prop("value")
        .await
        .context("its value")?;
    ensure!(
        female_18_59.as_deref() == Some("4"),
        "the female 18–59 cell holds {female_18_59:?}, not 4"
    );
    let female_row = c
        .find(Locator::XPath(
            "//table[contains(@class, 'combos')]//tr[th[normalize-space(.)='Female']]",
        ))
        .await
        .context("the table's Female row")?
        .text()
        .await
        .context("its text")?;
    ensure!(
        female_row.trim_end().ends_with('7'),
        "the Female row does not end with its worked-out 7: {female_row:?}"
    );
    press(c, "Submit").await?;
    wait_for(
        c,
        Locator::XPath("//main//span[contains(@class, 'v-submitted')]"),
    )
    .await
    .context("the report shows as submitted")?;
    let stored = app
        .store
        .results_framework(&app.state.org().org, &operator(), PROJECT_CODE)
        .await
        .map_err(|e| format!("the matrix reads: {e}"))?;
    let report = stored.results[0].indicators[0]
        .report(q1)
        .ok_or("no report stored for the first quarter")?;
    let cell = report
        .values
        .iter()
        .find(|v| v.disaggregation == "age_group=age_18_59;sex=female")
        .map(|v| v.figure.to_input());
    ensure!(
        cell.as_deref() == Some("4"),
        "the stored female 18–59 figure is {cell:?}"
    );
    // Reported now, the indicator cannot be deleted, and the page says so.
    let block = c
        .find(Locator::Id(&format!("ind-{indicator}")))
        .await
        .context("the indicator's block")?
        .text()
        .await
        .context("the indicator's text")?;
    ensure!(
        block.contains("12"),
        "the indicator does not show the submitted 12:\n{block}"
    );

    // The second result, which has no reports, is deleted after confirming.
    let article = format!("//article[@id='result-{doomed}']");
    c.find(Locator::XPath(&format!(
        "{article}/div[contains(@class, 'edit-actions')]/details/summary[starts-with(normalize-space(.), 'Delete…')]"
    )))
    .await
    .context("the second result's \"Delete…\"")?
    .click()
    .await
    .context("open the confirmation")?;
    wait_for(
        c,
        Locator::XPath(&format!(
            "{article}//button[normalize-space(.)='Delete the result']"
        )),
    )
    .await
    .context("the \"Delete the result\" button")?;
    screenshot(c, "results-delete-confirmation", 1280, 1400).await?;
    c.find(Locator::XPath(&format!(
        "{article}//button[normalize-space(.)='Delete the result']"
    )))
    .await
    .context("the \"Delete the result\" button")?
    .click()
    .await
    .context("confirm the deletion")?;
    let deadline = Instant::now() + WAIT;
    loop {
        // The page is being replaced: an element gone stale only means "look again".
        let text = main_text(c).await.unwrap_or_default();
        if !text.is_empty() && !text.contains("Communities are informed") {
            ensure!(
                text.contains("Returnees assisted to reintegrate"),
                "the other result went too:\n{text}"
            );
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the deleted result is still shown after {} s",
            WAIT.as_secs()
        );
        tokio::time::sleep(POLL).await;
    }
    let left = app
        .store
        .results_framework(&app.state.org().org, &operator(), PROJECT_CODE)
        .await
        .map_err(|e| format!("the matrix reads: {e}"))?;
    ensure!(
        left.results.len() == 1,
        "{} results are left, not 1",
        left.results.len()
    );

    // A result's title emptied: nothing is saved, and the page says which field is wrong.
    let kept = left.results[0].id.as_str();
    c.find(Locator::Css(&format!("a[href$='/result/{kept}/edit']")))
        .await
        .context("the remaining result's \"Edit\" link")?
        .click()
        .await
        .context("open the result's form")?;
    wait_for(c, Locator::Css("form#edit-result"))
        .await
        .context("the result's form")?;
    replace_text(c, "e-title", " ").await?;
    c.find(Locator::XPath(
        "//form[@id='edit-result']//button[normalize-space(.)='Save']",
    ))
    .await
    .context("the form's \"Save\" button")?
    .click()
    .await
    .context("save the result")?;
    let alert = wait_for(c, Locator::Css("main p.error[role='alert']"))
        .await
        .context("the form's error")?
        .text()
        .await
        .context("the error's text")?;
    ensure!(
        alert.contains("Nothing was saved.") && alert.contains("Title: is required"),
        "the error does not say what is wrong: {alert:?}"
    );
    screenshot(c, "results-result-edit-error", 1280, 1200).await?;
    let unchanged = app
        .store
        .results_framework(&app.state.org().org, &operator(), PROJECT_CODE)
        .await
        .map_err(|e| format!("the matrix reads: {e}"))?;
    ensure!(
        unchanged.results[0].title == "Returnees are assisted to reintegrate",
        "the result's title changed to {:?}",
        unchanged.results[0].title
    );
    sign_out(c).await
}

/// Clears a field and types into it.
async fn replace_text(c: &Client, id: &str, text: &str) -> Outcome {
    let field = c
        .find(Locator::Id(id))
        .await
        .context(format!("the field #{id}"))?;
    field.clear().await.context(format!("clear #{id}"))?;
    field
        .send_keys(text)
        .await
        .context(format!("type into #{id}"))
}

fn results_story<'a>(
    c: &'a Client,
    app: &'a App,
) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(results_reporting(c, app))
}

/// An officer enters a quarter's figures with their breakdown by sex and submits them; a
/// second officer approves them; the Strategic Results Framework then shows them.
async fn results_reporting(c: &Client, app: &App) -> Outcome {
    let base = app.url.as_str();
    let framework = app
        .store
        .results_framework(&app.state.org().org, &operator(), PROJECT_CODE)
        .await
        .map_err(|e| format!("the matrix reads: {e}"))?;
    let indicator = framework.results[0].indicators[0].id.as_str();
    let page = format!("{base}/projects/{PROJECT_CODE}/results");
    sign_in(c, base, REPORTER).await?;
    c.goto(&page).await.context("open the results matrix")?;
    wait_for(
        c,
        Locator::XPath("(//main//summary[normalize-space(.)='Enter values'])[1]"),
    )
    .await
    .context("the first \"Enter values\"")?
    .click()
    .await
    .context("open the first report form")?;
    let q1 = "2026-01-01";
    type_into(c, &format!("total-{indicator}-{q1}"), "12").await?;
    type_into(c, &format!("v-{indicator}-{q1}-sex=female"), "7").await?;
    type_into(c, &format!("v-{indicator}-{q1}-sex=male"), "5").await?;
    type_into(c, &format!("v-{indicator}-{q1}-sex=other_unknown"), "0").await?;
    type_into(c, &format!("n-{indicator}-{q1}"), "From the case files").await?;
    c.find(Locator::XPath(&format!(
        "//form[.//input[@id='total-{indicator}-{q1}']]//button[@value='submit']"
    )))
    .await
    .context("the \"Save and submit\" button")?
    .click()
    .await
    .context("save and submit")?;
    wait_for(
        c,
        Locator::XPath("//main//span[contains(@class, 'v-submitted')]"),
    )
    .await
    .context("the report shows as submitted")?;
    sign_out(c).await?;

    sign_in(c, base, VALIDATOR).await?;
    c.goto(&page).await.context("open the results matrix")?;
    press(c, "Approve").await?;
    wait_for(
        c,
        Locator::XPath("//main//span[contains(@class, 'v-approved')]"),
    )
    .await
    .context("the report shows as approved")?;
    let text = main_text(c).await?;
    if !text.contains("12") {
        return Err(format!("the matrix does not show the approved 12: {text}"));
    }
    c.goto(&format!("{base}/results?window=2026"))
        .await
        .context("open the SRF roll-up")?;
    wait_for(c, Locator::XPath("//main//td[normalize-space(.)='12']"))
        .await
        .context("the SRF shows the approved figure")?;
    sign_out(c).await
}

fn viewer_story<'a>(
    c: &'a Client,
    app: &'a App,
) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(story(c, &app.url))
}

fn project_story<'a>(
    c: &'a Client,
    app: &'a App,
) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(project_lifecycle(c, &app.url))
}

/// chromedriver and Chromium, when the environment names them.
struct Browser {
    driver: PathBuf,
    chromium: String,
}

impl Browser {
    /// The browser to use, or `None` (said loudly) when the test is to be skipped.
    fn from_env() -> Option<Self> {
        let driver = match std::env::var(DRIVER_ENV) {
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
                return None;
            }
        };
        let chromium = std::env::var(CHROMIUM_ENV)
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_CHROMIUM.to_owned());
        assert!(
            driver.is_file(),
            "{DRIVER_ENV}={} is not a file",
            driver.display()
        );
        assert!(
            Path::new(&chromium).is_file(),
            "the browser {chromium} is not a file (install chromium or set {CHROMIUM_ENV})"
        );
        Some(Self { driver, chromium })
    }

    /// Runs a story in a fresh browser session and fails the test with what the browser showed
    /// if the story fails.
    async fn run(&self, app: &App, story: Story, timeout: Duration) {
        let driver = Driver::start(&self.driver).await;
        let profile = tempfile::tempdir().expect("a temporary folder for the browser profile");

        let client = tokio::time::timeout(
            Duration::from_secs(60),
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities(&self.chromium, profile.path()))
                .connect(&driver.url),
        )
        .await
        .unwrap_or_else(|_| driver.fail("no WebDriver session after 60 s"))
        .unwrap_or_else(|e| driver.fail(&format!("chromedriver opens no Chromium session: {e}")));

        let outcome = match tokio::time::timeout(timeout, story(&client, app)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "the story did not finish within {} s",
                timeout.as_secs()
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
    }
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

/// A project from draft to approval, each step taken by the person whose step it is.
async fn project_lifecycle(c: &Client, base: &str) -> Outcome {
    let project = format!("{base}/projects/{PROJECT_CODE}");

    // The project developer starts a project from the portfolio and fills in the draft form.
    sign_in(c, base, DRAFTER).await?;
    c.goto(&format!("{base}/projects"))
        .await
        .context("open /projects")?;
    wait_for(c, Locator::LinkText("New project"))
        .await
        .context("the \"New project\" button on the portfolio")?
        .click()
        .await
        .context("click \"New project\"")?;
    let title = wait_for(c, Locator::Id("title"))
        .await
        .context("the draft form")?;
    expect_path(c, "/projects/new").await?;
    title
        .send_keys(PROJECT_TITLE)
        .await
        .context("type the title")?;
    type_into(
        c,
        "summary",
        "Counselling and information on regular pathways.",
    )
    .await?;
    c.find(Locator::Id("thematic_area"))
        .await
        .context("the thematic area")?
        .select_by_value("migrant_protection")
        .await
        .context("choose the thematic area")?;
    type_into(c, "primary_country", "KEN").await?;
    // Date fields take typed dates in the browser's locale; setting the value is exact.
    set_value(c, "start_date", "2026-01-01").await?;
    set_value(c, "end_date", "2027-12-31").await?;
    let currency = c
        .find(Locator::Id("currency"))
        .await
        .context("the currency")?;
    currency.clear().await.context("clear the currency")?;
    currency
        .send_keys("EUR")
        .await
        .context("type the currency")?;
    let row = |name: &'static str| async move {
        c.find_all(Locator::Css(&format!("input[name='{name}']")))
            .await
            .context(format!("the budget rows' {name} fields"))
    };
    let (categories, currencies, amounts) = (
        row("line_category").await?,
        row("line_currency").await?,
        row("line_amount").await?,
    );
    ensure!(
        categories.len() == 5 && amounts.len() == 5,
        "a new draft offers {} budget rows, not 5",
        categories.len()
    );
    for (i, (category, currency, amount)) in
        [("staff", "", "200000"), ("activities", "KES", "1,000,000")]
            .into_iter()
            .enumerate()
    {
        categories[i]
            .send_keys(category)
            .await
            .context("type a budget category")?;
        if !currency.is_empty() {
            currencies[i]
                .send_keys(currency)
                .await
                .context("type a budget line's currency")?;
        }
        amounts[i]
            .send_keys(amount)
            .await
            .context("type a budget amount")?;
    }
    type_into(c, "donors", "European Union").await?;
    screenshot(c, "form", 1280, 2200).await?;
    screenshot(c, "form-phone", 390, 2400).await?;
    c.set_window_size(1280, 1024)
        .await
        .context("resize the window back")?;
    c.find(Locator::Css("form.project-form button[type='submit']"))
        .await
        .context("the form's save button")?
        .click()
        .await
        .context("save the draft")?;
    wait_for(
        c,
        Locator::XPath(&format!("//h1[normalize-space(.)='{PROJECT_TITLE}']")),
    )
    .await
    .context("the new project's page")?;
    expect_path(c, &format!("/projects/{PROJECT_CODE}")).await?;
    expect_status(c, "Draft").await?;
    let facts = main_text(c).await?;
    ensure!(
        facts.contains("200,000.00 EUR") && facts.contains("227,500.00 USD"),
        "the budget is not 200,000.00 EUR + 1,000,000.00 KES = 227,500.00 USD:\n{facts}"
    );
    press(c, "Submit for review").await?;
    expect_status(c, "Submitted for review").await?;
    sign_out(c).await?;

    // The regional reviewer finds it in her queue, starts the review and endorses it.
    sign_in(c, base, REVIEWER).await?;
    c.goto(&format!("{base}/review"))
        .await
        .context("open /review")?;
    wait_for(c, Locator::LinkText(PROJECT_CODE))
        .await
        .context("the project in the review queue")?
        .click()
        .await
        .context("open the project from the queue")?;
    expect_status(c, "Submitted for review").await?;
    press(c, "Start the review").await?;
    expect_status(c, "Under review").await?;
    screenshot(c, "reviewing", 1280, 2600).await?;
    c.set_window_size(1280, 1024)
        .await
        .context("resize the window back")?;
    type_into(c, "comment", "Sound and well costed.").await?;
    press(c, "Endorse").await?;
    expect_status(c, "Endorsed").await?;
    history_shows(
        c,
        &[
            "Endorse",
            REVIEWER,
            "Sound and well costed.",
            "Regional reviewer, RO-NBO",
        ],
    )
    .await?;
    sign_out(c).await?;

    // The drafter sends it to the donor.
    sign_in(c, base, DRAFTER).await?;
    c.goto(&project).await.context("open the project")?;
    press(c, "Submit to donor").await?;
    expect_status(c, "Submitted to donor").await?;
    sign_out(c).await?;

    // The approver at headquarters approves it, with the keyboard.
    sign_in(c, base, APPROVER).await?;
    c.goto(&project).await.context("open the project")?;
    let approve = button(c, "Approve").await?;
    approve
        .send_keys(&Key::Enter)
        .await
        .context("press Enter on \"Approve\"")?;
    expect_status(c, "Approved").await?;
    history_shows(c, &["Approve", APPROVER, "Approver, DSPOP-PRIMA"]).await?;
    screenshots(c, base).await
}

async fn sign_in(c: &Client, base: &str, email: &str) -> Outcome {
    c.goto(&format!("{base}/login"))
        .await
        .context("open /login")?;
    wait_for(c, Locator::Css("form[action='/login'] input[name='email']"))
        .await
        .context("the sign-in form")?
        .send_keys(email)
        .await
        .context("type the email")?;
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
    wait_for(
        c,
        Locator::Css("header form[action='/logout'] button[type='submit']"),
    )
    .await
    .context(format!("signed in as {email}"))?;
    Ok(())
}

async fn sign_out(c: &Client) -> Outcome {
    c.find(Locator::Css(
        "header form[action='/logout'] button[type='submit']",
    ))
    .await
    .context("the sign-out button")?
    .click()
    .await
    .context("click the sign-out button")?;
    wait_for(
        c,
        Locator::Css("form[action='/login'] input[name='password']"),
    )
    .await
    .context("the sign-in form after signing out")?;
    Ok(())
}

async fn type_into(c: &Client, id: &str, text: &str) -> Outcome {
    c.find(Locator::Id(id))
        .await
        .context(format!("the field #{id}"))?
        .send_keys(text)
        .await
        .context(format!("type into #{id}"))
}

async fn set_value(c: &Client, id: &str, value: &str) -> Outcome {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![json!(id), json!(value)],
    )
    .await
    .context(format!("set #{id} to {value}"))?;
    Ok(())
}

/// A button of the page's main part, by its text.
async fn button(c: &Client, label: &str) -> Outcome<Element> {
    wait_for(
        c,
        Locator::XPath(&format!("//main//button[normalize-space(.)='{label}']")),
    )
    .await
    .context(format!("the button \"{label}\""))
}

async fn press(c: &Client, label: &str) -> Outcome {
    button(c, label)
        .await?
        .click()
        .await
        .context(format!("click \"{label}\""))
}

/// Waits until the status badge under the project's title reads `status`.
async fn expect_status(c: &Client, status: &str) -> Outcome {
    wait_for(
        c,
        Locator::XPath(&format!(
            "//p[@class='subtitle']/span[contains(@class, 'badge') and normalize-space(.)='{status}']"
        )),
    )
    .await
    .context(format!("the status \"{status}\" under the project's title"))?;
    Ok(())
}

async fn main_text(c: &Client) -> Outcome<String> {
    c.find(Locator::Css("main"))
        .await
        .context("the page's main part")?
        .text()
        .await
        .context("the page's text")
}

/// The history's last entry mentions each of `words`.
async fn history_shows(c: &Client, words: &[&str]) -> Outcome {
    let last = c
        .find(Locator::Css("#history .timeline > li:last-child"))
        .await
        .context("the history's last entry")?
        .text()
        .await
        .context("the history's text")?;
    for word in words {
        ensure!(
            last.contains(word),
            "the history's last entry does not mention {word:?}:\n{last}"
        );
    }
    Ok(())
}

/// A screenshot of the page as it is, at a size, when `MERIDIAN_TEST_SCREENSHOTS` names a folder.
async fn screenshot(c: &Client, name: &str, width: u32, height: u32) -> Outcome {
    let Some(dir) = std::env::var_os(SCREENSHOTS_ENV).filter(|d| !d.is_empty()) else {
        return Ok(());
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).context(format!("create {}", dir.display()))?;
    c.set_window_size(width, height)
        .await
        .context("resize the window")?;
    let png = c.screenshot().await.context("take a screenshot")?;
    let file = dir.join(format!("{name}.png"));
    std::fs::write(&file, png).context(format!("write {}", file.display()))
}

/// Screenshots of the project's pages, for a person to look at, when `MERIDIAN_TEST_SCREENSHOTS`
/// names a folder: whole pages at a desktop's width, and a phone's screens one after another.
async fn screenshots(c: &Client, base: &str) -> Outcome {
    let Some(dir) = std::env::var_os(SCREENSHOTS_ENV).filter(|d| !d.is_empty()) else {
        return Ok(());
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).context(format!("create {}", dir.display()))?;
    let project = format!("/projects/{PROJECT_CODE}");
    // (file name, page, width, height, how many screens)
    for (name, path, width, height, screens) in [
        ("portfolio", "/projects", 1280, 900, 1),
        ("project", project.as_str(), 1280, 2600, 1),
        ("analytics", "/projects/analytics", 1280, 3000, 1),
        ("project-phone", project.as_str(), 390, 844, 4),
        ("analytics-phone", "/projects/analytics", 390, 844, 4),
        ("portfolio-phone", "/projects", 390, 844, 1),
        ("delegations", "/projects/delegations", 1280, 1000, 1),
        ("rates", "/projects/exchange-rates", 1280, 800, 1),
        ("review", "/review", 1280, 700, 1),
    ] {
        c.set_window_size(width, height)
            .await
            .context("resize the window")?;
        c.goto(&format!("{base}{path}"))
            .await
            .context(format!("open {path}"))?;
        wait_for(c, Locator::Css("main h1"))
            .await
            .context(format!("the heading of {path}"))?;
        for screen in 0..screens {
            c.execute(
                "window.scrollTo(0, arguments[0]);",
                vec![json!(screen * (height - 80))],
            )
            .await
            .context("scroll")?;
            let png = c.screenshot().await.context("take a screenshot")?;
            let file = if screens == 1 {
                dir.join(format!("{name}.png"))
            } else {
                dir.join(format!("{name}-{}.png", screen + 1))
            };
            std::fs::write(&file, png).context(format!("write {}", file.display()))?;
        }
    }
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

/// The application on a free port with a fresh database and the built-in organization; each
/// story adds the people it needs.
struct App {
    url: String,
    store: Store,
    state: AppState,
    _db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

fn operator() -> Actor {
    Actor::Operator {
        label: "browser test".into(),
    }
}

impl App {
    async fn spawn() -> Self {
        let db = TestDb::new().await;
        let store = Store::connect(&db.url)
            .await
            .expect("the test database opens");
        let countries = Countries::builtin();
        store
            .load_organization(
                &operator(),
                None,
                &meridian_domain::builtin::organization(),
                &countries,
            )
            .await
            .expect("the built-in organization loads");
        store
            .load_srf_if_empty(&meridian_domain::builtin::srf())
            .await
            .expect("the built-in results framework loads");
        let stored = store
            .organization()
            .await
            .expect("the organization reads back");
        let state = AppState::new(
            store.clone(),
            OrgSnapshot::new(stored, countries),
            Config::default(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the application");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            meridian_web::serve(listener, server_state, std::future::pending())
                .await
                .expect("the application serves");
        });
        Self {
            url,
            store,
            state,
            _db: db,
            server,
        }
    }

    /// An account with the known password, which need not be changed.
    async fn user(&self, email: &str, unit: &str, role: Role) {
        self.store
            .create_user(
                &self.state.org().org,
                &operator(),
                NewUser {
                    email: email.into(),
                    name: "Browser Test".into(),
                    unit: UnitCode::parse(unit).expect("a unit code"),
                    roles: vec![role],
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("the account {email} is not created: {e}"));
    }

    /// A quarterly project in Kenya with one output and one indicator broken down by sex,
    /// contributing to an SRF indicator. Returns the indicator's id.
    async fn results_matrix(&self) -> String {
        use meridian_store::results::{CategoryInput, IndicatorInput, ResultInput};
        let org = &self.state.org().org;
        let developer = self
            .store
            .demo_person(org, "amina@example.org", "CO-KEN", Role::ProjectDeveloper)
            .await
            .expect("the developer's account");
        let p = self
            .store
            .create_project(
                org,
                &developer,
                &meridian_store::projects::ProjectInput {
                    title: "Return and reintegration in Kenya".into(),
                    summary: String::new(),
                    thematic_area: "migrant_protection".into(),
                    unit: "CO-KEN".into(),
                    primary_country: "KEN".into(),
                    countries: vec![],
                    admin_areas: vec![],
                    start_date: "2026-01-01".into(),
                    end_date: "2026-12-31".into(),
                    currency: "USD".into(),
                    budget_lines: vec![],
                    donors: vec![],
                    partners: vec![],
                    restricted: false,
                },
            )
            .await
            .expect("the project is created");
        self.store
            .set_results_frequency(org, &operator(), &p.id, "quarterly")
            .await
            .expect("the frequency is set");
        let r = self
            .store
            .add_result(
                org,
                &operator(),
                &p.id,
                &ResultInput {
                    level: "output".into(),
                    title: "Returnees are assisted to reintegrate".into(),
                    srf_codes: vec![],
                    gcm_objectives: vec![21],
                    sdg_targets: vec![],
                    version: None,
                },
            )
            .await
            .expect("the result is added");
        let srf = self
            .store
            .srf_indicators()
            .await
            .expect("the SRF reads")
            .into_iter()
            .find(|i| i.measure.as_str() == "number" && i.aggregation.as_str() == "sum")
            .expect("a summed number indicator in the SRF");
        self.store
            .add_indicator(
                org,
                &operator(),
                &r.id,
                &IndicatorInput {
                    title: "Returnees assisted".into(),
                    measure: "number".into(),
                    direction: None,
                    aggregation: None,
                    cumulative: false,
                    unit: "people".into(),
                    categories: vec![CategoryInput {
                        category: "sex".into(),
                        options: None,
                        exhaustive: None,
                    }],
                    baseline_year: None,
                    baseline: None,
                    target: Some("400".into()),
                    srf_indicator: Some(srf.code),
                    means_of_verification: String::new(),
                    targets: vec![],
                    version: None,
                },
            )
            .await
            .expect("the indicator is added")
            .id
    }

    /// A second result of the matrix, with one indicator and nothing reported.
    async fn second_result(&self) {
        use meridian_store::results::{IndicatorInput, ResultInput};
        let org = &self.state.org().org;
        let r = self
            .store
            .add_result(
                org,
                &operator(),
                PROJECT_CODE,
                &ResultInput {
                    level: "output".into(),
                    title: "Communities are informed".into(),
                    srf_codes: vec![],
                    gcm_objectives: vec![],
                    sdg_targets: vec![],
                    version: None,
                },
            )
            .await
            .expect("the second result is added");
        self.store
            .add_indicator(
                org,
                &operator(),
                &r.id,
                &IndicatorInput {
                    title: "Information sessions held".into(),
                    measure: "number".into(),
                    direction: None,
                    aggregation: None,
                    cumulative: false,
                    unit: String::new(),
                    categories: vec![],
                    baseline_year: None,
                    baseline: None,
                    target: None,
                    srf_indicator: None,
                    means_of_verification: String::new(),
                    targets: vec![],
                    version: None,
                },
            )
            .await
            .expect("its indicator is added");
    }

    /// Euro and shilling rates, the Nairobi office's authority to endorse and headquarters'
    /// authority to approve, as the head of the organization issues them.
    async fn rates_and_delegations(&self) {
        use meridian_domain::projects::money::RateTable;
        let org = &self.state.org().org;
        let rates = RateTable::parse_csv(
            "rates",
            "currency,date,usd_per_unit\nEUR,2020-01-01,1.10\nKES,2020-01-01,0.0075\n".as_bytes(),
        )
        .expect("the rates read");
        self.store
            .put_exchange_rates(org, &operator(), &rates)
            .await
            .expect("the rates are stored");
        for (authority, role, unit, limit) in [
            ("endorse_project", "regional_reviewer", "RO-NBO", "1000000"),
            ("approve_project", "approver", "DSPOP-PRIMA", "5000000"),
        ] {
            self.store
                .create_delegation(
                    org,
                    &operator(),
                    &DelegationInput {
                        authority: authority.into(),
                        role: Some(role.into()),
                        unit: Some(unit.into()),
                        person: None,
                        limit_amount: limit.into(),
                        limit_currency: "USD".into(),
                        valid_from: "2020-01-01".into(),
                        valid_to: None,
                        may_subdelegate: true,
                        parent: None,
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("the delegation to {role} at {unit} is refused: {e}"));
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
