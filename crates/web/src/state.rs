use meridian_domain::org::{Countries, FocalPointIndex, Organization};
use meridian_store::Store;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// The organization as loaded, with what is derived from it. Replaced whole on reload.
pub struct OrgSnapshot {
    pub org: Organization,
    pub index: FocalPointIndex,
    pub countries: Countries,
}

impl OrgSnapshot {
    pub fn new(org: Organization, countries: Countries) -> Self {
        let index = FocalPointIndex::new(&org);
        Self {
            org,
            index,
            countries,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The organization file reloads read; `None`: the one built into the binary.
    pub org_file: Option<PathBuf>,
    /// Mark cookies `Secure` even without `X-Forwarded-Proto: https` (when TLS ends here).
    pub secure_cookies: bool,
    /// Where uploaded documents are kept.
    pub documents_dir: PathBuf,
    /// How long a request may take before it is answered 408.
    pub time_limits: TimeLimits,
}

/// How long a request may take, receiving its body included, before it is answered 408 and its
/// work dropped (`crate::time_limit`).
#[derive(Debug, Clone, Copy)]
pub struct TimeLimits {
    /// Every request but the long ones.
    pub request: std::time::Duration,
    /// The IATI uploads (`crate::LONG_REQUESTS`): up to 1 GiB received, then imported.
    pub long_request: std::time::Duration,
}

impl Default for TimeLimits {
    fn default() -> Self {
        Self {
            request: std::time::Duration::from_secs(30),
            long_request: std::time::Duration::from_secs(30 * 60),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            org_file: None,
            secure_cookies: false,
            documents_dir: PathBuf::from("meridian-data/documents"),
            time_limits: TimeLimits::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub documents: meridian_store::projects::DocumentStorage,
    pub config: Arc<Config>,
    snapshot: Arc<RwLock<Arc<OrgSnapshot>>>,
}

impl AppState {
    pub fn new(store: Store, snapshot: OrgSnapshot, config: Config) -> Self {
        Self {
            store,
            documents: meridian_store::projects::DocumentStorage::new(config.documents_dir.clone()),
            config: Arc::new(config),
            snapshot: Arc::new(RwLock::new(Arc::new(snapshot))),
        }
    }

    /// The current organization. Cheap: an `Arc` clone.
    pub fn org(&self) -> Arc<OrgSnapshot> {
        self.snapshot.read().expect("snapshot lock").clone()
    }

    pub fn replace_org(&self, snapshot: OrgSnapshot) {
        *self.snapshot.write().expect("snapshot lock") = Arc::new(snapshot);
    }
}

impl AppState {
    /// Reads the organization file again, loads it into the store (checking the actor may),
    /// and swaps the in-memory organization for the stored one.
    pub async fn reload_organization(
        &self,
        actor: &meridian_domain::authz::Actor,
    ) -> Result<crate::api::org::ReloadSummary, crate::error::AppError> {
        use crate::error::AppError;
        let current = self.org();
        // Who may reload is decided before the file is even read.
        meridian_domain::authz::authorize(
            &current.org,
            actor,
            meridian_domain::authz::Action::ReloadOrganization,
            &current.org.root().code,
        )?;
        let (name, text) = match &self.config.org_file {
            Some(path) => (
                path.display().to_string(),
                std::fs::read_to_string(path).map_err(|e| {
                    AppError::invalid("org_file", format!("cannot read {}: {e}", path.display()))
                })?,
            ),
            None => (
                "built-in organization".to_owned(),
                meridian_domain::builtin::ORGANIZATION_TOML.to_owned(),
            ),
        };
        let org = meridian_domain::org::parse_org_file(&name, &text, &current.countries)
            .map_err(|e| AppError::invalid("org_file", e.to_string()))?;
        let s = self
            .store
            .load_organization(actor, Some(&current.org), &org, &current.countries)
            .await?;
        let stored = self.store.organization().await?;
        self.replace_org(OrgSnapshot::new(stored, current.countries.clone()));
        Ok(crate::api::org::ReloadSummary {
            units_added: s.units_added,
            units_updated: s.units_updated,
            units_retired: s.units_retired,
            countries_changed: s.countries_changed,
            other_changes: s.other_changes,
        })
    }
}
