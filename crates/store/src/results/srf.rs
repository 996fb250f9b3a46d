//! The Strategic Results Framework as stored: loaded from `data/srf.toml` when the store has
//! none, then kept by RBM officers at headquarters (every edit audited).

use super::{corrupt, parse_text};
use crate::audit::record;
use crate::db::now_text;
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::Organization;
use meridian_domain::results::model::{AggregationType, Direction, Measure};
use meridian_domain::results::srf::Srf;
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SrfNodeRow {
    pub code: String,
    pub parent: Option<String>,
    /// `objective`, `long_term_outcome`, `short_term_outcome`, `output`, or a section.
    pub level: String,
    pub title: String,
    pub position: i64,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SrfIndicatorRow {
    pub code: String,
    pub node_code: String,
    pub title: String,
    #[schema(value_type = String)]
    pub measure: Measure,
    #[schema(value_type = String)]
    pub aggregation: AggregationType,
    #[schema(value_type = String)]
    pub direction: Direction,
    pub unit: String,
    pub position: i64,
    pub version: i64,
}

/// The whole framework, nodes in tree order (each after its parent).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SrfTree {
    pub nodes: Vec<SrfNodeRow>,
    pub indicators: Vec<SrfIndicatorRow>,
}

impl SrfTree {
    pub fn children<'a>(&'a self, code: Option<&'a str>) -> impl Iterator<Item = &'a SrfNodeRow> {
        self.nodes
            .iter()
            .filter(move |n| n.parent.as_deref() == code)
    }

    pub fn indicators_of<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a SrfIndicatorRow> {
        self.indicators.iter().filter(move |i| i.node_code == code)
    }
}

/// An RBM officer's edit of a node: its title.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SrfNodeInput {
    pub title: String,
    pub version: i64,
}

/// An RBM officer's edit of an SRF indicator.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SrfIndicatorInput {
    pub title: String,
    pub aggregation: String,
    pub direction: String,
    #[serde(default)]
    pub unit: String,
    pub version: i64,
}

impl Store {
    /// Loads the framework file into an empty store (at first start). A store that has a
    /// framework keeps it: RBM officers edit it in the UI.
    pub async fn load_srf_if_empty(&self, srf: &Srf) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM srf_nodes")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        if n > 0 {
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        let now = now_text();
        for (position, node) in srf.nodes().iter().enumerate() {
            sqlx::query(
                "INSERT INTO srf_nodes (code, parent_code, level, title, position, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6)",
            )
            .bind(&node.code)
            .bind(&node.parent)
            .bind(node.level.as_str())
            .bind(&node.title)
            .bind(position as i64)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            for (i, ind) in node.indicators.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO srf_indicators (code, node_code, title, measure, aggregation, direction, unit, \
                     position, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
                )
                .bind(&ind.code)
                .bind(&node.code)
                .bind(&ind.title)
                .bind(ind.measure.as_str())
                .bind(ind.aggregation.as_str())
                .bind(ind.direction.as_str())
                .bind(&ind.unit)
                .bind(i as i64)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
        }
        record(
            &mut tx,
            &Actor::Operator {
                label: "srf-load".into(),
            },
            Change::new("srf", "load", "srf").after(serde_json::json!({
                "nodes": srf.nodes().len(),
                "indicators": srf.nodes().iter().map(|n| n.indicators.len()).sum::<usize>(),
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The framework, for anyone signed in.
    pub async fn srf_tree(&self) -> Result<SrfTree, StoreError> {
        let nodes = sqlx::query(
            "SELECT code, parent_code, level, title, position, version FROM srf_nodes ORDER BY position",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(SrfNodeRow {
                code: r.try_get("code")?,
                parent: r.try_get("parent_code")?,
                level: r.try_get("level")?,
                title: r.try_get("title")?,
                position: r.try_get("position")?,
                version: r.try_get("version")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(SrfTree {
            nodes,
            indicators: self.srf_indicators().await?,
        })
    }

    pub async fn srf_indicators(&self) -> Result<Vec<SrfIndicatorRow>, StoreError> {
        sqlx::query(
            "SELECT i.code, i.node_code, i.title, i.measure, i.aggregation, i.direction, i.unit, \
             i.position, i.version FROM srf_indicators i JOIN srf_nodes n ON n.code = i.node_code \
             ORDER BY n.position, i.position",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(SrfIndicatorRow {
                code: r.try_get("code")?,
                node_code: r.try_get("node_code")?,
                title: r.try_get("title")?,
                measure: corrupt(&r.try_get::<String, _>("measure")?)?,
                aggregation: corrupt(&r.try_get::<String, _>("aggregation")?)?,
                direction: corrupt(&r.try_get::<String, _>("direction")?)?,
                unit: r.try_get("unit")?,
                position: r.try_get("position")?,
                version: r.try_get("version")?,
            })
        })
        .collect()
    }

    /// Renames a node of the framework. RBM officers at headquarters.
    pub async fn update_srf_node(
        &self,
        org: &Organization,
        actor: &Actor,
        code: &str,
        input: &SrfNodeInput,
    ) -> Result<SrfNodeRow, StoreError> {
        authorize(
            org,
            actor,
            Action::ManageStrategicFramework,
            &org.root().code,
        )?;
        let title = input.title.trim();
        if title.is_empty() {
            return Err(StoreError::invalid("title", "is required"));
        }
        let tree = self.srf_tree().await?;
        let before = tree
            .nodes
            .iter()
            .find(|n| n.code == code)
            .cloned()
            .ok_or_else(|| StoreError::not_found("SRF node", code))?;
        if before.version != input.version {
            return Err(StoreError::Conflict(format!(
                "{code} was changed since you read it (you have version {}, it is at {}): now {:?}",
                input.version, before.version, before.title
            )));
        }
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE srf_nodes SET title = $3, updated_at = $4, version = version + 1 WHERE code = $1 AND version = $2",
        )
        .bind(code)
        .bind(input.version)
        .bind(title)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "{code} was changed at the same moment; reload"
            )));
        }
        let mut after = before.clone();
        after.title = title.to_owned();
        after.version += 1;
        record(
            &mut tx,
            actor,
            Change::new("srf_node", "update", code)
                .unit(&org.root().code)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Edits an SRF indicator's title, aggregation, direction and unit. Its measure is fixed:
    /// project indicators of that measure contribute to it.
    pub async fn update_srf_indicator(
        &self,
        org: &Organization,
        actor: &Actor,
        code: &str,
        input: &SrfIndicatorInput,
    ) -> Result<SrfIndicatorRow, StoreError> {
        authorize(
            org,
            actor,
            Action::ManageStrategicFramework,
            &org.root().code,
        )?;
        let title = input.title.trim();
        if title.is_empty() {
            return Err(StoreError::invalid("title", "is required"));
        }
        let aggregation: AggregationType = parse_text("aggregation", &input.aggregation)?;
        let direction: Direction = parse_text("direction", &input.direction)?;
        let before = self
            .srf_indicators()
            .await?
            .into_iter()
            .find(|i| i.code == code)
            .ok_or_else(|| StoreError::not_found("SRF indicator", code))?;
        if !aggregation.fits(before.measure) {
            return Err(StoreError::invalid(
                "aggregation",
                format!("{aggregation} does not fit a {} indicator", before.measure),
            ));
        }
        if before.version != input.version {
            return Err(StoreError::Conflict(format!(
                "{code} was changed since you read it (you have version {}, it is at {})",
                input.version, before.version
            )));
        }
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE srf_indicators SET title = $3, aggregation = $4, direction = $5, unit = $6, \
             updated_at = $7, version = version + 1 WHERE code = $1 AND version = $2",
        )
        .bind(code)
        .bind(input.version)
        .bind(title)
        .bind(aggregation.as_str())
        .bind(direction.as_str())
        .bind(input.unit.trim())
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "{code} was changed at the same moment; reload"
            )));
        }
        let mut after = before.clone();
        after.title = title.to_owned();
        after.aggregation = aggregation;
        after.direction = direction;
        after.unit = input.unit.trim().to_owned();
        after.version += 1;
        record(
            &mut tx,
            actor,
            Change::new("srf_indicator", "update", code)
                .unit(&org.root().code)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
