//! Project documents: the bytes in a document storage, the metadata and audit in the database.

use super::unit_code;
use crate::audit::record;
use crate::db::{new_id, now_text};
use crate::users::sha256_hex_bytes;
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, Denied, authorize};
use meridian_domain::org::Organization;
use meridian_domain::projects::documents::check_document;
use serde::Serialize;
use sqlx::Row;
use std::path::{Path, PathBuf};

/// Where document bytes live: a local folder, one file per distinct content, named by its
/// SHA-256. Content-addressed, so writing the same document twice stores it once, and a file
/// left behind by a transaction that failed later is harmless.
#[derive(Debug, Clone)]
pub struct DocumentStorage {
    root: PathBuf,
}

impl DocumentStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Writes the bytes (atomically: a temporary file renamed into place) and returns their hash.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<String, StoreError> {
        let sha = sha256_hex_bytes(&bytes);
        let path = self.path(&sha);
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| StoreError::Corrupt(format!("document storage task: {e}")))?
            .map_err(|e| StoreError::Corrupt(format!("writing a document: {e}")))?;
        Ok(sha)
    }

    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Corrupt(format!("document hash {sha256:?}")));
        }
        let path = self.path(sha256);
        tokio::fs::read(&path)
            .await
            .map_err(|e| StoreError::Corrupt(format!("reading document {sha256}: {e}")))
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().expect("document paths have a folder");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", new_id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Document {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub doc_type: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Document, StoreError> {
    Ok(Document {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        name: r.try_get("name")?,
        doc_type: r.try_get("doc_type")?,
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

const COLUMNS: &str =
    "id, project_id, name, doc_type, content_type, size_bytes, sha256, uploaded_by, uploaded_at";

impl Store {
    /// Attaches a document to a project: checked (type, format by content, size) before
    /// anything is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_document(
        &self,
        org: &Organization,
        actor: &Actor,
        storage: &DocumentStorage,
        project_id: &str,
        name: &str,
        doc_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Document, StoreError> {
        let project = self.project_unchecked(project_id).await?;
        let unit = unit_code(&project.unit)?;
        authorize(org, actor, Action::ManageProject, &unit)?;
        let content_type =
            check_document(name, doc_type, &bytes).map_err(|m| StoreError::invalid("file", m))?;
        let size = bytes.len() as i64;
        let sha256 = storage.put(bytes).await?;
        let doc = Document {
            id: new_id(),
            project_id: project.id.clone(),
            name: name.trim().to_owned(),
            doc_type: doc_type.to_owned(),
            content_type: content_type.to_owned(),
            size_bytes: size,
            sha256,
            uploaded_by: actor.label(),
            uploaded_at: now_text(),
        };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO project_documents (id, project_id, name, doc_type, content_type, size_bytes, sha256, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&doc.id)
        .bind(&doc.project_id)
        .bind(&doc.name)
        .bind(&doc.doc_type)
        .bind(&doc.content_type)
        .bind(doc.size_bytes)
        .bind(&doc.sha256)
        .bind(&doc.uploaded_by)
        .bind(&doc.uploaded_at)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            Change::new("project", "document", &project.id)
                .unit(&unit)
                .after(&doc),
        )
        .await?;
        tx.commit().await?;
        Ok(doc)
    }

    /// The documents of a project the actor may see in full.
    pub async fn documents(
        &self,
        org: &Organization,
        actor: &Actor,
        project_id: &str,
    ) -> Result<Vec<Document>, StoreError> {
        let project = self.project(org, actor, project_id).await?;
        if project.restricted_hidden {
            return Err(StoreError::Denied(Denied::Rule(format!(
                "{} is restricted: its documents are shown to the project's staff, reviewers and approvers",
                project.code
            ))));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM project_documents WHERE project_id = $1 ORDER BY uploaded_at, id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&project.id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// One document and its bytes, for someone who may see its project's documents.
    pub async fn document(
        &self,
        org: &Organization,
        actor: &Actor,
        storage: &DocumentStorage,
        id: &str,
    ) -> Result<(Document, Vec<u8>), StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM project_documents WHERE id = $1");
        let doc = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| from_row(&r))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("document", id))?;
        // The same check as the list: the project visible, and not hidden as restricted.
        self.documents(org, actor, &doc.project_id).await?;
        let bytes = storage.get(&doc.sha256).await?;
        Ok((doc, bytes))
    }
}
