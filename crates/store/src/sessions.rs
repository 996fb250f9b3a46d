//! Browser sessions and the sign-in rate limit. Both live in the database, so several `serve`
//! processes behind a load balancer share them.

use crate::audit::record;
use crate::db::{format_time, now_text};
use crate::users::{LoginError, User, random_secret, sha256_hex};
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

pub const SESSION_LIFETIME: Duration = Duration::hours(12);
/// Failed sign-ins allowed per key (email, client address) within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
}

/// A new session: the secret for the cookie, and the CSRF token that forms must echo.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub user: User,
}

impl Store {
    /// Signs a user in: checks the rate limit for each key, then the credentials. A failure
    /// counts against every key; a success clears them.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        limit_keys: &[String],
    ) -> Result<NewSession, LoginError> {
        let now = OffsetDateTime::now_utc();
        let window_start = format_time(now - FAILURE_WINDOW);
        for key in limit_keys {
            let row =
                sqlx::query("SELECT window_start, failures FROM login_failures WHERE key = $1")
                    .bind(key)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(StoreError::from)?;
            if let Some(row) = row {
                let started: String = row.try_get("window_start").map_err(StoreError::from)?;
                let failures: i64 = row.try_get("failures").map_err(StoreError::from)?;
                if started >= window_start && failures >= MAX_FAILURES {
                    let started = crate::db::parse_time(&started)?;
                    let left = (started + FAILURE_WINDOW - now).whole_minutes() + 1;
                    return Err(LoginError::RateLimited { minutes: left });
                }
            }
        }
        let user = match self.check_credentials(email, password).await {
            Ok(user) => user,
            Err(e) => {
                self.count_failure(limit_keys, &window_start).await?;
                return Err(e);
            }
        };
        let token = random_secret();
        let csrf_token = random_secret();
        let mut tx = self.begin().await?;
        for key in limit_keys {
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        let created = now_text();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&token))
        .bind(&user.id)
        .bind(&csrf_token)
        .bind(&created)
        .bind(format_time(now + SESSION_LIFETIME))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        record(
            &mut tx,
            &user.actor(),
            Change::new("user", "sign_in", &user.id).unit(&user.unit),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(NewSession {
            token,
            csrf_token,
            user,
        })
    }

    async fn count_failure(&self, keys: &[String], window_start: &str) -> Result<(), StoreError> {
        let now = now_text();
        let mut tx = self.begin().await?;
        for key in keys {
            // A window older than FAILURE_WINDOW starts over at one failure.
            sqlx::query(
                "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, $2, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN login_failures.window_start < $3 THEN 1 ELSE login_failures.failures + 1 END, \
                 window_start = CASE WHEN login_failures.window_start < $3 THEN $2 ELSE login_failures.window_start END",
            )
            .bind(key)
            .bind(&now)
            .bind(window_start)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The live session a cookie secret belongs to, with its (enabled) user.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, csrf_token FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(sha256_hex(token))
        .bind(now_text())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: String = row.try_get("user_id")?;
        let csrf_token: String = row.try_get("csrf_token")?;
        Ok(self
            .find_user_by_id(&user_id)
            .await?
            .filter(|u| !u.disabled)
            .map(|user| Session { user, csrf_token }))
    }

    pub async fn sign_out(&self, token: &str, user: &User) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(sha256_hex(token))
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            &user.actor(),
            Change::new("user", "sign_out", &user.id).unit(&user.unit),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
