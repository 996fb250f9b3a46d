//! The pages, as a browser sees them: sign-in, the tree, search (whole page and htmx fragment),
//! languages, page weight, and administration pages refused outside one's scope.

use crate::harness::{PASSWORD, TestApp};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use std::io::Write;

async fn text(r: reqwest::Response) -> String {
    r.text().await.unwrap()
}

/// Signs in through the form, as a person would.
async fn sign_in_with_form(app: &TestApp, email: &str) -> crate::harness::Session {
    let s = app.anonymous();
    let page = text(s.get("/login?next=/org").await).await;
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = s
        .client
        .post(format!("{}/login", app.url))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf", &token),
            ("next", "/org"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/org");
    let home = text(s.get("/").await).await;
    let csrf = home
        .split("\"X-CSRF-Token\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    crate::harness::Session { csrf, ..s }
}

#[tokio::test]
async fn a_page_without_a_session_sends_you_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    let r = app.anonymous().get("/org/units/RO-NBO").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/login?next=%2Forg%2Funits%2FRO-NBO"
    );
}

#[tokio::test]
async fn the_sign_in_form_is_protected_against_forgery() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let r = app
        .anonymous()
        .client
        .post(format!("{}/login", app.url))
        .form(&[
            ("email", "amina@example.org"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_wrong_password_in_the_form_shows_the_error_in_the_page() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let s = app.anonymous();
    let page = text(s.get("/login").await).await;
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let r = s
        .client
        .post(format!("{}/login", app.url))
        .form(&[
            ("email", "amina@example.org"),
            ("password", "wrong"),
            ("csrf", token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = text(r).await;
    assert!(body.contains("role=\"alert\"") && body.contains("the email or password is not right"));
    assert!(
        body.contains("value=\"amina@example.org\""),
        "the email is kept"
    );
}

#[tokio::test]
async fn the_tree_shows_the_organization_and_the_unit_page_its_facts() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let s = sign_in_with_form(&app, "amina@example.org").await;
    let tree = text(s.get("/org").await).await;
    assert!(tree.contains("id=\"org-tree\""));
    for name in [
        "Department of External Relations",
        "PRIMA Unit",
        "Regional Office in Dakar",
        "Country Office in Kenya",
    ] {
        assert!(tree.contains(name), "{name} is not in the tree");
    }
    let unit = text(s.get("/org/units/RO-NBO").await).await;
    assert!(unit.contains("<h1>Regional Office in Nairobi</h1>"));
    assert!(unit.contains("/org/countries/KEN"));
    assert!(
        !unit.contains("/admin/units/RO-NBO/users"),
        "a viewer gets no administration link"
    );
    assert_eq!(
        s.get("/org/units/NOPE").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn search_returns_a_page_or_an_htmx_fragment() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let s = sign_in_with_form(&app, "amina@example.org").await;
    let page = text(s.get("/org/search?q=audit+recommendations").await).await;
    assert!(page.starts_with("<!doctype html>"));
    let first = page.split("<ol class=\"results\">").nth(1).unwrap();
    assert!(
        first
            .trim_start()
            .starts_with("<li><a href=\"/org/units/DSPOP-OCU\">Operational Compliance Unit</a>"),
        "{first}"
    );

    let fragment = s
        .client
        .get(format!("{}/org/search?q=unearmarked+funds", app.url))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    let fragment = text(fragment).await;
    assert!(!fragment.contains("<html"), "a fragment, not a page");
    assert!(fragment.contains("Donor Relations Division"));

    let countries = text(s.get("/org/countries?q=kenya").await).await;
    assert!(countries.contains("Regional Office in Nairobi"));
}

#[tokio::test]
async fn the_interface_speaks_english_french_and_spanish() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let s = sign_in_with_form(&app, "amina@example.org").await;
    let r = s.get("/lang/fr?next=/org").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/org");
    let fr = text(s.get("/org").await).await;
    assert!(
        fr.contains("<html lang=\"fr\">")
            && fr.contains(">Organisation</a>")
            && fr.contains("Se déconnecter")
    );
    s.get("/lang/es").await;
    let es = text(s.get("/org").await).await;
    assert!(es.contains("<html lang=\"es\">") && es.contains(">Organización</a>"));
    // Without a cookie, the browser's language decides.
    let anon = app.anonymous();
    let login = anon
        .client
        .get(format!("{}/login", app.url))
        .header("accept-language", "es-AR,es;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(text(login).await.contains("Iniciar sesión"));
    assert_eq!(s.get("/lang/de").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_stay_under_30_kb_gzipped() {
    let app = TestApp::spawn().await;
    app.user("admin@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let s = sign_in_with_form(&app, "admin@example.org").await;
    for path in [
        "/",
        "/org",
        "/org/units/RO-BKK",
        "/org/search?q=risk",
        "/org/countries",
        "/admin/users",
        "/admin/audit",
        "/admin/users/new",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let body = r.bytes().await.unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body).unwrap();
        let size = gz.finish().unwrap().len();
        assert!(size <= 30 * 1024, "{path} is {size} bytes gzipped");
    }
}

/// The stylesheet and scripts a page names are served to anyone (the sign-in page needs them),
/// as what they are, cached for good (their paths change with each release), and allowed by
/// the page's own content security policy (same origin).
#[tokio::test]
async fn the_stylesheet_and_scripts_a_page_names_are_served_and_cached_for_good() {
    let app = TestApp::spawn().await;
    let s = app.anonymous();
    let login = s.get("/login").await;
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let page = text(login).await;
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/static/"))
        .collect();
    assert_eq!(assets.len(), 3, "a stylesheet, htmx and app.js: {assets:?}");
    for path in assets {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let kind = if path.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable"),
            "{path}"
        );
        let body = text(r).await;
        if path.contains("/app-") && path.ends_with(".js") {
            assert!(body.contains("htmx:xhr:progress"), "{path}");
        }
    }
}

#[tokio::test]
async fn a_country_office_user_is_refused_another_office_s_administration_pages() {
    let app = TestApp::spawn().await;
    app.user("admin.ke@example.org", "CO-KEN", &[Role::Administrator])
        .await;
    let s = sign_in_with_form(&app, "admin.ke@example.org").await;
    assert_eq!(
        s.get("/admin/units/CO-KEN/users").await.status(),
        StatusCode::OK
    );
    let refused = s.get("/admin/units/CO-UGA/users").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = text(refused).await;
    assert!(
        body.contains("<h1>Not allowed</h1>") && body.contains("CO-UGA is outside your scope"),
        "{body}"
    );
    assert_eq!(
        s.get("/admin/units/RO-NBO/users").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_administrator_creates_an_account_through_the_form() {
    let app = TestApp::spawn().await;
    app.user("admin.ke@example.org", "CO-KEN", &[Role::Administrator])
        .await;
    let s = sign_in_with_form(&app, "admin.ke@example.org").await;
    let r = s
        .post_form(
            "/admin/users/new",
            &[
                ("email", "new@example.org"),
                ("name", "New Person"),
                ("unit", "CO-KEN"),
                ("roles", "viewer"),
                ("roles", "data_officer"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(
        page.contains("class=\"secret\""),
        "the generated password is shown once"
    );
    let user = app
        .store
        .find_user_by_email("new@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.roles, [Role::Viewer, Role::DataOfficer]);
    assert!(user.must_change_password);

    let r = s
        .post_form(
            "/admin/users/new",
            &[
                ("email", "other@example.org"),
                ("unit", "CO-UGA"),
                ("roles", "viewer"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .post_form(
            "/admin/users/new",
            &[("email", "x@example.org"), ("unit", "CO-KEN")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(r).await.contains("give at least one role"));
    // A form without the CSRF token is refused.
    let r = s
        .client
        .post(format!("{}/admin/users/new", app.url))
        .form(&[
            ("email", "y@example.org"),
            ("unit", "CO-KEN"),
            ("roles", "viewer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        app.store
            .find_user_by_email("y@example.org")
            .await
            .unwrap()
            .is_none()
    );
}
