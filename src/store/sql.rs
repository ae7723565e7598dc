//! SQL that differs by backend, in one place: placeholders (numbered on
//! PostgreSQL, bare `?` on SQLite), multi-row `VALUES` lists, and a small
//! builder for statements whose conditions depend on the request.
//!
//! sqlx's own `QueryBuilder` does not fit `AnyPool`: `AnyArguments` always
//! writes `?`, which PostgreSQL does not take.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::Arguments as _;

use super::*;

/// A statement built piece by piece, each value bound where its
/// placeholder is written, so text and values cannot get out of step.
pub(super) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    bound: usize,
    /// The first bind error (a value the driver cannot encode), reported
    /// when the statement is run.
    error: Option<String>,
}

impl Sql {
    /// A statement starting with `text`.
    pub(super) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            args: AnyArguments::default(),
            bound: 0,
            error: None,
        }
    }

    /// Appends SQL text.
    pub(super) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value` and binds it (`$N`: both backends
    /// take numbered placeholders in short statements).
    pub(super) fn bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: 'static + sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.bound += 1;
        self.text.push('$');
        self.text.push_str(&self.bound.to_string());
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e.to_string());
        }
        self
    }

    /// Appends `(v1, v2, …)`, one placeholder per value.
    pub(super) fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Sql
    where
        T: 'static + sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self.text.push(')');
        self
    }

    /// Runs the statement; returns the rows it changed.
    pub(super) async fn execute<'e, E>(self, executor: E) -> Result<u64>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        if let Some(e) = self.error {
            return Err(StoreError::Corrupt(format!(
                "a value could not be bound: {e}"
            )));
        }
        Ok(sqlx::query_with(&self.text, self.args)
            .execute(executor)
            .await?
            .rows_affected())
    }

    /// Runs the statement and returns its rows.
    pub(super) async fn fetch_all<'e, E>(self, executor: E) -> Result<Vec<AnyRow>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        if let Some(e) = self.error {
            return Err(StoreError::Corrupt(format!(
                "a value could not be bound: {e}"
            )));
        }
        Ok(sqlx::query_with(&self.text, self.args)
            .fetch_all(executor)
            .await?)
    }
}

/// `(…), (…)` for `rows` rows of `columns` values bound in order.
pub(super) fn push_value_rows(sql: &mut String, backend: Backend, rows: usize, columns: usize) {
    for n in 0..rows {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&placeholders(backend, n * columns + 1, columns));
        sql.push(')');
    }
}

/// Placeholders for `n` values bound in order, the first being value
/// number `first`. SQLite gets bare `?`: its driver looks each numbered
/// placeholder up by a linear scan, which on a statement of a few hundred
/// values costs more than running it.
pub(super) fn placeholders(backend: Backend, first: usize, n: usize) -> String {
    match backend {
        Backend::Sqlite => vec!["?"; n].join(", "),
        Backend::Postgres => (first..first + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `text` as a case-insensitive LIKE pattern for "contains".
pub(super) fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}
