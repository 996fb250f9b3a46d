//! Multi-row INSERTs for the bulk writes of an import, in chunks each backend accepts.

use crate::{Backend, StoreError, Tx};

/// A bound value.
pub(crate) enum V {
    T(String),
    OT(Option<String>),
    I(i64),
    OI(Option<i64>),
    B(Vec<u8>),
}

pub(crate) struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    values: Vec<V>,
}

/// Below SQLite's 32,766 bound values per statement (PostgreSQL allows 65,535).
const MAX_BINDS: usize = 16_000;
const MAX_ROWS: usize = 1_000;

impl Rows {
    pub(crate) fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Rows {
            table,
            columns,
            values: Vec::new(),
        }
    }

    pub(crate) fn push<const N: usize>(&mut self, row: [V; N]) {
        debug_assert_eq!(N, self.columns.len(), "{}", self.table);
        self.values.extend(row);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Writes the rows and empties the list. SQLite gets anonymous `?` placeholders (binding
    /// a numbered one is a linear scan, quadratic over a long statement).
    pub(crate) async fn write(&mut self, tx: &mut Tx, backend: Backend) -> Result<(), StoreError> {
        let width = self.columns.len();
        let per_statement = (MAX_BINDS / width).min(MAX_ROWS);
        let mut values = std::mem::take(&mut self.values).into_iter();
        let mut left = values.len() / width;
        while left > 0 {
            let n = left.min(per_statement);
            left -= n;
            let mut sql = format!(
                "INSERT INTO {} ({}) VALUES ",
                self.table,
                self.columns.join(", ")
            );
            let mut p = 0;
            for r in 0..n {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..width {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    p += 1;
                    match backend {
                        Backend::Sqlite => sql.push('?'),
                        Backend::Postgres => {
                            sql.push('$');
                            sql.push_str(&p.to_string());
                        }
                    }
                }
                sql.push(')');
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in values.by_ref().take(n * width) {
                q = match v {
                    V::T(s) => q.bind(s),
                    V::OT(s) => q.bind(s),
                    V::I(i) => q.bind(i),
                    V::OI(i) => q.bind(i),
                    V::B(b) => q.bind(b),
                };
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}
