//! Signing in and out, one's own password, the interface language.

use super::{Shell, render};
use crate::auth::{
    Caller, MaybeCaller, clear_session_cookie, cookie, limit_keys, over_tls, session_cookie,
};
use crate::error::{AppError, AppResult};
use crate::i18n::{LANG_COOKIE, Lang, Tr};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;

/// Before there is a session, the sign-in form is protected by a double-submit cookie.
const LOGIN_CSRF_COOKIE: &str = "meridian_login_csrf";

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    shell: Shell,
    login_csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths are followed after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn login_form(
    t: Tr,
    uri: &Uri,
    next: String,
    email: String,
    error: Option<String>,
    secure: bool,
) -> AppResult<Response> {
    let token = meridian_store::users::generate_password();
    let page = LoginPage {
        shell: Shell::new(t, None, "", uri),
        login_csrf: token.clone(),
        next,
        email,
        error,
    };
    let mut response = render(&page)?;
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if secure { "; Secure" } else { "" }
    );
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie.parse().expect("cookie is ASCII"));
    Ok(response)
}

pub async fn login_page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    headers: HeaderMap,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    if caller.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    login_form(
        t,
        &uri,
        next,
        String::new(),
        None,
        over_tls(&state, &headers),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    headers: HeaderMap,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let secure = over_tls(&state, &headers);
    let next = safe_next(form.next.as_deref());
    if cookie(&headers, LOGIN_CSRF_COOKIE) != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return Err(AppError::Csrf);
    }
    let session = match state
        .store
        .sign_in(
            &form.email,
            &form.password,
            &limit_keys(&form.email, Some(addr)),
        )
        .await
    {
        Ok(session) => session,
        Err(e) => {
            let e = AppError::from(e);
            if matches!(e, AppError::Internal(_)) {
                return Err(e);
            }
            let mut page = login_form(t, &uri, next, form.email, Some(e.to_string()), secure)?;
            *page.status_mut() = e.status();
            return Ok(page);
        }
    };
    let target = if session.user.must_change_password {
        "/account/password".to_owned()
    } else {
        next
    };
    let mut response = Redirect::to(&target).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session_cookie(&session.token, secure)
            .parse()
            .expect("ASCII"),
    );
    headers.append(
        header::SET_COOKIE,
        format!("{LOGIN_CSRF_COOKIE}=; Path=/login; Max-Age=0")
            .parse()
            .expect("ASCII"),
    );
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
) -> AppResult<Response> {
    if let Some(token) = &caller.session_token {
        state.store.sign_out(token, &caller.user).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            clear_session_cookie(over_tls(&state, &headers)),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    shell: Shell,
    must_change: bool,
    done: bool,
    error: Option<String>,
}

pub async fn password_page(t: Tr, uri: Uri, caller: Caller) -> AppResult<Response> {
    render(&PasswordPage {
        must_change: caller.user.must_change_password,
        shell: Shell::new(t, Some(&caller), "", &uri),
        done: false,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let result = state
        .store
        .set_password(
            &state.org().org,
            &caller.actor(),
            &caller.user.id,
            Some(&form.current),
            &form.new,
        )
        .await;
    let (done, error, status) = match result {
        Ok(()) => (true, None, axum::http::StatusCode::OK),
        Err(e) => {
            let e = AppError::from(e);
            if matches!(e, AppError::Internal(_)) {
                return Err(e);
            }
            (false, Some(e.to_string()), e.status())
        }
    };
    let mut response = render(&PasswordPage {
        must_change: caller.user.must_change_password && !done,
        shell: Shell::new(t, Some(&caller), "", &uri),
        done,
        error,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

pub async fn set_language(
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let lang = Lang::parse(&code).ok_or_else(|| {
        AppError::NotFound(format!(
            "no interface language {code:?}; there are en, fr and es"
        ))
    })?;
    let next = safe_next(q.next.as_deref());
    Ok((
        [(
            header::SET_COOKIE,
            format!(
                "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
                lang.code()
            ),
        )],
        Redirect::to(&next),
    )
        .into_response())
}
