//! User accounts: who they are, which unit they belong to, which roles they hold; passwords
//! (Argon2id) and API tokens.

use crate::audit::record;
use crate::db::{flag, new_id, now_text};
use crate::org::unit_id;
use crate::{Store, StoreError, Tx};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, Role, UserActor, authorize};
use meridian_domain::org::{Organization, UnitCode};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::HashMap;

pub const MIN_PASSWORD_LEN: usize = 12;
const TOKEN_PREFIX: &str = "mrd_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub unit: UnitCode,
    pub roles: Vec<Role>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: String,
    pub version: i64,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor::User(UserActor {
            id: self.id.clone(),
            email: self.email.clone(),
            unit: self.unit.clone(),
            roles: self.roles.clone(),
        })
    }

    /// What the audit trail shows of an account (never the password hash).
    fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "email": self.email,
            "name": self.name,
            "unit": self.unit,
            "roles": self.roles,
            "disabled": self.disabled,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub unit: UnitCode,
    pub roles: Vec<Role>,
    /// `None`: generate one, returned once in [`CreatedUser`], to be changed at first sign-in.
    pub password: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: User,
    pub generated_password: Option<String>,
}

/// Changes to an account; `None` leaves a field as it is. `version` is the version the caller
/// read: if someone saved in between, the change is refused with a conflict.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub unit: Option<UnitCode>,
    pub roles: Option<Vec<Role>>,
    pub disabled: Option<bool>,
    pub version: i64,
}

/// Why a sign-in failed. Deliberately vague to the client about which part was wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the email or password is not right")]
    BadCredentials,
    #[error("too many failed sign-ins; try again in {minutes} minutes")]
    RateLimited { minutes: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn normalize_email(raw: &str) -> Result<String, StoreError> {
    let email = raw.trim().to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid && email.len() <= 254 {
        Ok(email)
    } else {
        Err(StoreError::invalid(
            "email",
            format!("expected an address like name@example.org, found {raw:?}"),
        ))
    }
}

fn check_password(password: &str) -> Result<(), StoreError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::invalid(
            "password",
            format!("a password has at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// A random password of 20 letters and digits (about 119 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A random secret for sessions and tokens, URL-safe.
pub(crate) fn random_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn sha256_hex(secret: &str) -> String {
    sha256_hex_bytes(secret.as_bytes())
}

pub(crate) fn sha256_hex_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Argon2id with the crate's defaults (the OWASP recommendation), off the async threads.
async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        let salt_bytes: [u8; 16] = rand::rng().random();
        let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes make a valid salt");
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Corrupt(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("hashing task: {e}")))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, o.code AS unit, u.disabled, \
     u.must_change_password, u.created_at, u.version";

impl Store {
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }

    pub async fn create_user(
        &self,
        org: &Organization,
        actor: &Actor,
        new: NewUser,
    ) -> Result<CreatedUser, StoreError> {
        let email = normalize_email(&new.email)?;
        if org.unit(new.unit.as_str()).is_none() {
            return Err(StoreError::invalid(
                "unit",
                format!("unknown unit code {}", new.unit),
            ));
        }
        authorize(org, actor, Action::ManageUsers, &new.unit)?;
        let name = match new.name.trim() {
            "" => email.clone(),
            name => name.to_owned(),
        };
        let (password, generated) = match new.password {
            Some(p) => {
                check_password(&p)?;
                (p, None)
            }
            None => {
                let p = generate_password();
                (p.clone(), Some(p))
            }
        };
        let mut roles = new.roles;
        roles.sort();
        roles.dedup();
        let hash = hash_password(password).await?;

        let mut tx = self.begin().await?;
        let taken = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "a user with the email {email} already exists"
            )));
        }
        let unit_id = unit_id(&mut *tx, &new.unit).await?;
        let id = new_id();
        let now = now_text();
        sqlx::query(
            "INSERT INTO users (id, email, name, unit_id, password_hash, must_change_password, \
             disabled, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, 1)",
        )
        .bind(&id)
        .bind(&email)
        .bind(&name)
        .bind(unit_id)
        .bind(hash)
        .bind(flag(generated.is_some()))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        write_roles(&mut tx, &id, &roles).await?;
        let user = User {
            id: id.clone(),
            email,
            name,
            unit: new.unit,
            roles,
            disabled: false,
            must_change_password: generated.is_some(),
            created_at: now,
            version: 1,
        };
        record(
            &mut tx,
            actor,
            Change::new("user", "create", &id)
                .unit(&user.unit)
                .after(user.audit_view()),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedUser {
            user,
            generated_password: generated,
        })
    }

    /// Accounts the actor may see, optionally only those of one unit, by email.
    pub async fn list_users(
        &self,
        org: &Organization,
        actor: &Actor,
        unit: Option<&UnitCode>,
    ) -> Result<Vec<User>, StoreError> {
        if let Some(unit) = unit {
            authorize(org, actor, Action::ViewUsers, unit)?;
        }
        let users = self.users_where("1 = 1", None).await?;
        Ok(users
            .into_iter()
            .filter(|u| match unit {
                Some(unit) => &u.unit == unit,
                None => authorize(org, actor, Action::ViewUsers, &u.unit).is_ok(),
            })
            .collect())
    }

    /// One account, if the actor may see it (their own, or within their administration).
    pub async fn user(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
    ) -> Result<User, StoreError> {
        let user = self
            .find_user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::not_found("user", id))?;
        if actor.user_id() != Some(user.id.as_str()) {
            authorize(org, actor, Action::ViewUsers, &user.unit)?;
        }
        Ok(user)
    }

    /// Looks an account up with no permission check: for sign-in and token resolution.
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let email = email.trim().to_lowercase();
        Ok(self
            .users_where("u.email = $1", Some(&email))
            .await?
            .into_iter()
            .next())
    }

    pub async fn find_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .users_where("u.id = $1", Some(id))
            .await?
            .into_iter()
            .next())
    }

    async fn users_where(&self, clause: &str, arg: Option<&str>) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN org_units o ON o.id = u.unit_id \
             WHERE {clause} ORDER BY u.email"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(arg) = arg {
            query = query.bind(arg.to_owned());
        }
        let rows = query.fetch_all(self.pool()).await?;
        // Roles of the same users, in one more query whatever their number.
        let roles_sql = format!(
            "SELECT ur.user_id, ur.role FROM user_roles ur JOIN users u ON u.id = ur.user_id \
             WHERE {clause} ORDER BY ur.role"
        );
        let mut roles_query = sqlx::query(sqlx::AssertSqlSafe(roles_sql));
        if let Some(arg) = arg {
            roles_query = roles_query.bind(arg.to_owned());
        }
        let mut roles: HashMap<String, Vec<Role>> = HashMap::new();
        for r in roles_query.fetch_all(self.pool()).await? {
            let role: String = r.try_get("role")?;
            roles
                .entry(r.try_get("user_id")?)
                .or_default()
                .push(Role::parse(&role).map_err(StoreError::Corrupt)?);
        }
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let unit: String = r.try_get("unit")?;
                let mut user_roles = roles.remove(&id).unwrap_or_default();
                user_roles.sort();
                Ok(User {
                    roles: user_roles,
                    id,
                    email: r.try_get("email")?,
                    name: r.try_get("name")?,
                    unit: UnitCode::parse(&unit).map_err(StoreError::Corrupt)?,
                    disabled: r.try_get::<i64, _>("disabled")? == 1,
                    must_change_password: r.try_get::<i64, _>("must_change_password")? == 1,
                    created_at: r.try_get("created_at")?,
                    version: r.try_get("version")?,
                })
            })
            .collect()
    }

    pub async fn update_user(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        changes: UserChanges,
    ) -> Result<User, StoreError> {
        let before = self
            .find_user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::not_found("user", id))?;
        authorize(org, actor, Action::ManageUsers, &before.unit)?;
        if let Some(unit) = &changes.unit {
            if org.unit(unit.as_str()).is_none() {
                return Err(StoreError::invalid(
                    "unit",
                    format!("unknown unit code {unit}"),
                ));
            }
            authorize(org, actor, Action::ManageUsers, unit)?;
        }
        if actor.user_id() == Some(id) && changes.disabled == Some(true) {
            return Err(StoreError::invalid(
                "disabled",
                "you cannot disable your own account",
            ));
        }
        let mut after = before.clone();
        if let Some(name) = changes.name {
            let name = name.trim();
            if name.is_empty() {
                return Err(StoreError::invalid("name", "a name cannot be empty"));
            }
            after.name = name.to_owned();
        }
        if let Some(unit) = changes.unit {
            after.unit = unit;
        }
        if let Some(mut roles) = changes.roles {
            roles.sort();
            roles.dedup();
            after.roles = roles;
        }
        if let Some(disabled) = changes.disabled {
            after.disabled = disabled;
        }
        after.version = before.version + 1;

        let mut tx = self.begin().await?;
        let unit_id = unit_id(&mut *tx, &after.unit).await?;
        let updated = sqlx::query(
            "UPDATE users SET name = $3, unit_id = $4, disabled = $5, updated_at = $6, \
             version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(id)
        .bind(changes.version)
        .bind(&after.name)
        .bind(unit_id)
        .bind(flag(after.disabled))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "the account {} was changed by someone else (you edited version {}, it is now at version {}); reload and apply your change again",
                before.email, changes.version, before.version
            )));
        }
        if after.roles != before.roles {
            sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            write_roles(&mut tx, id, &after.roles).await?;
        }
        if after.disabled {
            end_sessions(&mut tx, id).await?;
        }
        record(
            &mut tx,
            actor,
            Change::new("user", "update", id)
                .unit(&after.unit)
                .before(before.audit_view())
                .after(after.audit_view()),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets a password: one's own (after proving the current one), or, for an administrator
    /// of the user's unit, anyone's (the user must then change it at next sign-in).
    pub async fn set_password(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        current: Option<&str>,
        new_password: &str,
    ) -> Result<(), StoreError> {
        check_password(new_password)?;
        let user = self
            .find_user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::not_found("user", id))?;
        let own = actor.user_id() == Some(id);
        if own {
            let hash = self.password_hash(id).await?;
            let ok = match current {
                Some(c) => verify_password(c.to_owned(), hash).await,
                None => false,
            };
            if !ok {
                return Err(StoreError::invalid(
                    "current_password",
                    "the current password is not right",
                ));
            }
        } else {
            authorize(org, actor, Action::ManageUsers, &user.unit)?;
        }
        let hash = hash_password(new_password.to_owned()).await?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = $4, \
             version = version + 1 WHERE id = $1",
        )
        .bind(id)
        .bind(hash)
        .bind(flag(!own))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if !own {
            end_sessions(&mut tx, id).await?;
        }
        record(
            &mut tx,
            actor,
            Change::new("user", "set_password", id)
                .unit(&user.unit)
                .after(serde_json::json!({ "must_change_password": !own })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn password_hash(&self, id: &str) -> Result<String, StoreError> {
        Ok(sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?
            .try_get("password_hash")?)
    }

    /// Checks an email and password. Unknown emails cost the same time as wrong passwords.
    pub async fn check_credentials(&self, email: &str, password: &str) -> Result<User, LoginError> {
        let user = self.find_user_by_email(email).await?;
        let hash = match &user {
            Some(u) => self.password_hash(&u.id).await?,
            // Verify against a real hash anyway, so unknown emails take as long as known ones.
            None => dummy_hash().await?,
        };
        let ok = verify_password(password.to_owned(), hash).await;
        match user {
            Some(u) if ok && !u.disabled => Ok(u),
            _ => Err(LoginError::BadCredentials),
        }
    }

    /// Issues an API token for a user; the plain token is returned once and stored hashed.
    pub async fn issue_token(
        &self,
        org: &Organization,
        actor: &Actor,
        user_id: &str,
        label: &str,
    ) -> Result<String, StoreError> {
        let user = self
            .find_user_by_id(user_id)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user_id))?;
        if actor.user_id() != Some(user_id) {
            authorize(org, actor, Action::ManageUsers, &user.unit)?;
        }
        if user.disabled {
            return Err(StoreError::invalid(
                "user",
                format!("{} is disabled", user.email),
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_secret());
        let id = new_id();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(sha256_hex(&token))
        .bind(label)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            Change::new("api_token", "create", &id)
                .unit(&user.unit)
                .after(serde_json::json!({ "user": user.email, "label": label })),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The active user an API token belongs to.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(sha256_hex(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: String = row.try_get("user_id")?;
        Ok(self
            .find_user_by_id(&user_id)
            .await?
            .filter(|u| !u.disabled))
    }
}

async fn dummy_hash() -> Result<String, StoreError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash_password(generate_password()))
        .await
        .cloned()
}

async fn write_roles(tx: &mut Tx, user_id: &str, roles: &[Role]) -> Result<(), StoreError> {
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(crate) async fn end_sessions(tx: &mut Tx, user_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
