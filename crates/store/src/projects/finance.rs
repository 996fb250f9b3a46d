//! Exchange rates and a project's financial transactions.

use super::write::parse_date;
use super::{e4, e4_rounded, from_e4, unit_code};
use crate::audit::record;
use crate::db::{new_id, now_text};
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::Organization;
use meridian_domain::projects::money::{Currency, ExchangeRate, Money, RateTable};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    Commitment,
    Disbursement,
    Expenditure,
    IncomingFunds,
}

impl TransactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Commitment => "commitment",
            TransactionKind::Disbursement => "disbursement",
            TransactionKind::Expenditure => "expenditure",
            TransactionKind::IncomingFunds => "incoming_funds",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
            StoreError::invalid(
                "kind",
                format!("expected commitment, disbursement, expenditure or incoming_funds, found {raw:?}"),
            )
        })
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TransactionInput {
    pub kind: String,
    pub date: String,
    pub currency: String,
    pub amount: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Transaction {
    pub id: String,
    pub kind: TransactionKind,
    pub date: String,
    pub currency: String,
    pub amount: Decimal,
    pub amount_usd: Decimal,
    pub provider: String,
    pub receiver: String,
    pub description: String,
}

impl Store {
    /// Every stored rate, as a table for conversions. The table is small (currencies × dates).
    pub async fn rate_table(&self) -> Result<RateTable, StoreError> {
        Ok(RateTable::new(self.exchange_rates().await?))
    }

    pub async fn exchange_rates(&self) -> Result<Vec<ExchangeRate>, StoreError> {
        sqlx::query("SELECT currency, effective, usd_per_unit FROM exchange_rates ORDER BY currency, effective")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let currency: String = r.try_get("currency")?;
                let effective: String = r.try_get("effective")?;
                let rate: String = r.try_get("usd_per_unit")?;
                Ok(ExchangeRate {
                    currency: Currency::parse(&currency).map_err(StoreError::Corrupt)?,
                    effective: parse_date("effective", &effective)?,
                    usd_per_unit: Decimal::from_str(&rate).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Adds (or corrects) exchange rates, all or nothing. Headquarters only.
    pub async fn put_exchange_rates(
        &self,
        org: &Organization,
        actor: &Actor,
        rates: &[ExchangeRate],
    ) -> Result<usize, StoreError> {
        authorize(org, actor, Action::ManageExchangeRates, &org.root().code)?;
        let mut tx = self.begin().await?;
        for rate in rates {
            if rate.usd_per_unit <= Decimal::ZERO {
                return Err(StoreError::invalid(
                    "usd_per_unit",
                    format!("{}: a rate is above zero", rate.currency),
                ));
            }
            let before: Option<String> = sqlx::query(
                "SELECT usd_per_unit FROM exchange_rates WHERE currency = $1 AND effective = $2",
            )
            .bind(rate.currency.to_string())
            .bind(rate.effective.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("usd_per_unit"))
            .transpose()?;
            sqlx::query(
                "INSERT INTO exchange_rates (currency, effective, usd_per_unit, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (currency, effective) DO UPDATE SET usd_per_unit = $3",
            )
            .bind(rate.currency.to_string())
            .bind(rate.effective.to_string())
            .bind(rate.usd_per_unit.normalize().to_string())
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
            let key = format!("{}@{}", rate.currency, rate.effective);
            let mut change = Change::new("exchange_rate", "put", &key).after(
                serde_json::json!({ "usd_per_unit": rate.usd_per_unit.normalize().to_string() }),
            );
            if let Some(b) = before {
                change = change.before(serde_json::json!({ "usd_per_unit": b }));
            }
            record(&mut tx, actor, change).await?;
        }
        tx.commit().await?;
        Ok(rates.len())
    }

    pub async fn add_transaction(
        &self,
        org: &Organization,
        actor: &Actor,
        project_id: &str,
        input: &TransactionInput,
    ) -> Result<Transaction, StoreError> {
        let project = self.project_unchecked(project_id).await?;
        let unit = unit_code(&project.unit)?;
        authorize(org, actor, Action::ManageProject, &unit)?;
        let kind = TransactionKind::parse(&input.kind)?;
        let date = parse_date("date", &input.date)?;
        let money = Money::parse(&input.amount, &input.currency)
            .map_err(|m| StoreError::invalid("amount", m.to_string()))?;
        if money.amount <= Decimal::ZERO {
            return Err(StoreError::invalid(
                "amount",
                "a transaction amount is above zero",
            ));
        }
        let usd = self
            .rate_table()
            .await?
            .to_usd(&money, date)
            .map_err(|e| StoreError::invalid("currency", e.to_string()))?;
        let t = Transaction {
            id: new_id(),
            kind,
            date: date.to_string(),
            currency: money.currency.to_string(),
            amount: money.amount,
            amount_usd: usd.round_dp(4),
            provider: input.provider.trim().to_owned(),
            receiver: input.receiver.trim().to_owned(),
            description: input.description.trim().to_owned(),
        };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO project_transactions (id, project_id, kind, date, currency, amount_e4, amount_usd_e4, \
             provider, receiver, description, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&t.id)
        .bind(&project.id)
        .bind(kind.as_str())
        .bind(&t.date)
        .bind(&t.currency)
        .bind(e4(t.amount, "amount")?)
        .bind(e4_rounded(usd)?)
        .bind(&t.provider)
        .bind(&t.receiver)
        .bind(&t.description)
        .bind(actor.label())
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            Change::new("project", "transaction", &project.id)
                .unit(&unit)
                .after(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    pub async fn transactions(
        &self,
        org: &Organization,
        actor: &Actor,
        project_id: &str,
    ) -> Result<Vec<Transaction>, StoreError> {
        let project = self.project(org, actor, project_id).await?;
        if project.restricted_hidden {
            return Err(StoreError::Denied(meridian_domain::authz::Denied::Rule(
                format!(
                    "{} is restricted: its transactions are shown to the project's staff, reviewers and approvers",
                    project.code
                ),
            )));
        }
        sqlx::query(
            "SELECT id, kind, date, currency, amount_e4, amount_usd_e4, provider, receiver, description \
             FROM project_transactions WHERE project_id = $1 ORDER BY date, id",
        )
        .bind(&project.id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Transaction {
                id: r.try_get("id")?,
                kind: TransactionKind::parse(&kind)?,
                date: r.try_get("date")?,
                currency: r.try_get("currency")?,
                amount: from_e4(r.try_get("amount_e4")?),
                amount_usd: from_e4(r.try_get("amount_usd_e4")?),
                provider: r.try_get("provider")?,
                receiver: r.try_get("receiver")?,
                description: r.try_get("description")?,
            })
        })
        .collect()
    }
}
