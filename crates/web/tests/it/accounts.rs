//! Signing in, tokens, CSRF, and administering accounts within one's scope.

use crate::harness::{PASSWORD, TestApp, code, operator};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_wrong_password_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let anon = app.anonymous();
    let (status, body) = anon
        .post_json(
            "/api/v1/auth/login",
            json!({"email": "amina@example.org", "password": "not the password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["message"],
        "the email or password is not right"
    );
    // No session was opened: the API still says who-are-you.
    assert_eq!(
        anon.get_json("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    // An unknown email gets the very same answer.
    let (status, body2) = anon
        .post_json(
            "/api/v1/auth/login",
            json!({"email": "nobody@example.org", "password": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, body2);
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let anon = app.anonymous();
    for _ in 0..meridian_store::sessions::MAX_FAILURES {
        let (status, _) = anon
            .post_json(
                "/api/v1/auth/login",
                json!({"email": "amina@example.org", "password": "guess"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, body) = anon
        .post_json(
            "/api/v1/auth/login",
            json!({"email": "amina@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&body), "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("minutes")
    );
}

#[tokio::test]
async fn sign_in_sets_a_protected_cookie_and_sign_out_ends_the_session() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let r = app
        .anonymous()
        .client
        .post(format!("{}/api/v1/auth/login", app.url))
        .json(&json!({"email": "Amina@Example.org ", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );

    let s = app.signed_in("amina@example.org").await;
    let (status, me) = s.get_json("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["unit"], "CO-KEN");
    let (status, _) = s.post_json("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s.get_json("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookies_are_secure_behind_tls() {
    let app = TestApp::spawn().await;
    app.user("amina@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let r = app
        .anonymous()
        .client
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": "amina@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn a_change_on_a_session_cookie_needs_the_csrf_token() {
    let app = TestApp::spawn().await;
    let admin = app
        .as_user("admin@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let body = json!({"email": "new@example.org", "unit": "CO-KEN", "roles": ["viewer"]});
    let r = admin
        .client
        .post(format!("{}/api/v1/users", app.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&err), "csrf");
    assert!(
        app.store
            .find_user_by_email("new@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let (status, _) = admin.post_json("/api/v1/users", body).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_bearer_token_from_the_command_line_works_without_csrf() {
    let app = TestApp::spawn().await;
    let id = app
        .user("script@example.org", "RO-NBO", &[Role::Viewer])
        .await;
    let org = app.state.org();
    let token = app
        .store
        .issue_token(&org.org, &operator(), &id, "test")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let me: serde_json::Value = client
        .get(format!("{}/api/v1/me", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "script@example.org");
    let r = client
        .get(format!("{}/api/v1/me", app.url))
        .bearer_auth("mrd_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_account_with_a_generated_password_must_choose_its_own_first() {
    let app = TestApp::spawn().await;
    let admin = app
        .as_user("admin@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let (status, created) = admin
        .post_json(
            "/api/v1/users",
            json!({"email": "new@example.org", "unit": "CO-KEN", "roles": ["viewer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let generated = created["generated_password"].as_str().unwrap().to_owned();
    assert!(generated.len() >= 20);

    let anon = app.anonymous();
    let (status, login) = anon
        .post_json(
            "/api/v1/auth/login",
            json!({"email": "new@example.org", "password": generated}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(login["user"]["must_change_password"], true);
    let s = crate::harness::Session {
        csrf: login["csrf_token"].as_str().unwrap().to_owned(),
        ..anon
    };
    let (status, body) = s.get_json("/api/v1/org-units").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "password_change_required");
    let (status, body) = s
        .post_json(
            "/api/v1/me/password",
            json!({"current_password": generated, "new_password": "short"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "password");
    let (status, _) = s
        .post_json(
            "/api/v1/me/password",
            json!({"current_password": generated, "new_password": "a much longer passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s.get_json("/api/v1/org-units").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_country_office_administrator_manages_only_their_office() {
    let app = TestApp::spawn().await;
    app.user("uganda@example.org", "CO-UGA", &[Role::Viewer])
        .await;
    let kenya = app
        .as_user("admin.ke@example.org", "CO-KEN", &[Role::Administrator])
        .await;

    let (status, _) = kenya
        .post_json("/api/v1/users", json!({"email": "staff.ke@example.org", "unit": "CO-KEN", "roles": ["project_developer"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = kenya
        .post_json(
            "/api/v1/users",
            json!({"email": "staff.ug@example.org", "unit": "CO-UGA", "roles": ["viewer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CO-UGA"),
        "{body}"
    );
    assert!(
        app.store
            .find_user_by_email("staff.ug@example.org")
            .await
            .unwrap()
            .is_none()
    );

    let (status, _) = kenya.get_json("/api/v1/users?unit=CO-UGA").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, visible) = kenya.get_json("/api/v1/users").await;
    let emails: Vec<&str> = visible
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["admin.ke@example.org", "staff.ke@example.org"]);
}

#[tokio::test]
async fn a_regional_administrator_manages_the_whole_region() {
    let app = TestApp::spawn().await;
    let nairobi = app
        .as_user("admin.nbo@example.org", "RO-NBO", &[Role::Administrator])
        .await;
    for (email, unit, expected) in [
        ("a@example.org", "CO-KEN", StatusCode::CREATED),
        ("b@example.org", "CO-UGA", StatusCode::CREATED),
        ("c@example.org", "CO-THA", StatusCode::FORBIDDEN),
        ("d@example.org", "DSPOP-RMU", StatusCode::FORBIDDEN),
    ] {
        let (status, body) = nairobi
            .post_json(
                "/api/v1/users",
                json!({"email": email, "unit": unit, "roles": ["viewer"]}),
            )
            .await;
        assert_eq!(status, expected, "{unit}: {body}");
    }
}

#[tokio::test]
async fn bad_account_input_is_named_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app
        .as_user("admin@example.org", "DG-EO", &[Role::Administrator])
        .await;
    for (body, field) in [
        (
            json!({"email": "x@example.org", "unit": "NOPE", "roles": ["viewer"]}),
            "unit",
        ),
        (
            json!({"email": "x@example.org", "unit": "co ken", "roles": ["viewer"]}),
            "unit",
        ),
        (
            json!({"email": "not-an-email", "unit": "CO-KEN", "roles": ["viewer"]}),
            "email",
        ),
        (
            json!({"email": "x@example.org", "unit": "CO-KEN", "roles": ["king"]}),
            "roles",
        ),
        (
            json!({"email": "x@example.org", "unit": "CO-KEN", "roles": []}),
            "roles",
        ),
        (
            json!({"email": "x@example.org", "unit": "CO-KEN", "roles": ["viewer"], "password": "short"}),
            "password",
        ),
    ] {
        let (status, err) = admin.post_json("/api/v1/users", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    assert!(
        app.store
            .find_user_by_email("x@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let (status, err) = admin
        .post_json(
            "/api/v1/users",
            json!({"email": "ADMIN@example.org", "unit": "CO-KEN", "roles": ["viewer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
}

#[tokio::test]
async fn two_administrators_editing_the_same_account_conflict_visibly() {
    let app = TestApp::spawn().await;
    let id = app
        .user("staff@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let first = app
        .as_user("one@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let second = app
        .as_user("two@example.org", "RO-NBO", &[Role::Administrator])
        .await;
    let (_, read) = first.get_json(&format!("/api/v1/users/{id}")).await;
    let version = read["version"].as_i64().unwrap();

    let (status, saved) = first
        .patch_json(
            &format!("/api/v1/users/{id}"),
            json!({"roles": ["project_developer"], "version": version}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["roles"], json!(["project_developer"]));
    let (status, err) = second
        .patch_json(
            &format!("/api/v1/users/{id}"),
            json!({"roles": ["approver"], "version": version}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changed by someone else"),
        "{err}"
    );
    let (_, now) = first.get_json(&format!("/api/v1/users/{id}")).await;
    assert_eq!(now["roles"], json!(["project_developer"]));
}

#[tokio::test]
async fn a_disabled_account_can_no_longer_sign_in_or_use_its_session() {
    let app = TestApp::spawn().await;
    let id = app
        .user("leaver@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let leaver = app.signed_in("leaver@example.org").await;
    let admin = app
        .as_user("admin@example.org", "CO-KEN", &[Role::Administrator])
        .await;
    let (_, read) = admin.get_json(&format!("/api/v1/users/{id}")).await;
    let (status, _) = admin
        .patch_json(
            &format!("/api/v1/users/{id}"),
            json!({"disabled": true, "version": read["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        leaver.get_json("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = app
        .anonymous()
        .post_json(
            "/api/v1/auth/login",
            json!({"email": "leaver@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
