use meridian_domain::authz::Denied;

/// What went wrong in the store. The web layer maps each variant to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Someone else changed the record since the caller read it, or a unique value is taken.
    #[error("{0}")]
    Conflict(String),
    /// Another writer holds the database longer than the store waits for it: on SQLite (one
    /// writer at a time) a large import holds it for its whole length; on PostgreSQL a lock
    /// timeout. Nothing was changed; the same request can be made again.
    #[error(
        "the database is busy with another write (a large import, for example); nothing was \
         changed, try again in a minute"
    )]
    Busy,
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) {
            StoreError::Busy
        } else {
            StoreError::Database(e)
        }
    }
}

/// SQLite's SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes; PostgreSQL's
/// lock_not_available (55P03).
fn is_busy(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    let Some(code) = db.code() else {
        return false;
    };
    match code.parse::<i32>() {
        Ok(n) => matches!(n & 0xff, 5 | 6),
        Err(_) => code == "55P03",
    }
}

impl StoreError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound {
            entity,
            id: id.into(),
        }
    }
}
