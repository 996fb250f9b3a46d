//! One error type for the HTTP layer, one mapping to status and stable code.
//!
//! API handlers return it as JSON: `{"error": {"code", "message", "field"}}`. For pages, the
//! UI middleware (`ui::render_errors`) turns the same error into an HTML page in the user's
//! language, or a redirect to the sign-in page for `unauthenticated`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use meridian_domain::authz::Denied;
use meridian_store::StoreError;
use meridian_store::users::LoginError;
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error(
        "this account has a generated password: choose your own first (POST /api/v1/me/password, or the page /account/password)"
    )]
    PasswordChangeRequired,
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RateLimited(String),
    /// The database is held by another writer (a large import): nothing changed, try again.
    #[error("{0}")]
    Busy(String),
    #[error("something went wrong on our side; the error is logged")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf | AppError::PasswordChangeRequired => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::RateLimited(_) => "rate_limited",
            AppError::Busy(_) => "busy",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable: unauthenticated, forbidden, csrf, password_change_required, not_found, invalid, conflict, rate_limited, busy (503: the database is held by another write; nothing changed, try again), internal.
    pub code: String,
    /// What was wrong, in words a person can act on.
    pub message: String,
    /// The input field at fault, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                field: self.field().map(str::to_owned),
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Denied(d) => d.into(),
            StoreError::NotFound { .. } => AppError::NotFound(e.to_string()),
            StoreError::Invalid { field, message } => AppError::invalid(field, message),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Busy => AppError::Busy(e.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        AppError::Forbidden(d.to_string())
    }
}

impl From<LoginError> for AppError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::BadCredentials => AppError::Invalid {
                field: None,
                message: e.to_string(),
            },
            LoginError::RateLimited { .. } => AppError::RateLimited(e.to_string()),
            LoginError::Store(s) => s.into(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A write held up by another (SQLite's one writer, a PostgreSQL lock timeout) is a 503
    /// saying to try again, not a 500 "something went wrong on our side".
    #[test]
    fn a_busy_database_is_a_503_to_try_again() {
        let e = AppError::from(StoreError::Busy);
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code(), "busy");
        assert!(e.to_string().contains("try again"), "{e}");
    }
}
