//! SQL that differs by backend, in one place: placeholders (numbered on
//! PostgreSQL, bare `?` on SQLite) and multi-row `VALUES` lists.

//! Storage: one set of queries and migrations for SQLite and PostgreSQL,
//! through sqlx's `AnyPool`.
//!
//! SQL here is portable: `$N` placeholders (SQLite binds them by number;
//! multi-row statements give it bare `?`, see `placeholders`),
//! `ON CONFLICT … DO NOTHING`, row-value comparisons for keyset pagination,
//! integer millisecond times, application-made ids. SQLite runs in WAL mode
//! with `synchronous = FULL` (a commit is on disk when it returns), a busy
//! timeout, and a single writer connection so writers queue in the pool
//! instead of failing with "database is locked".

use super::*;

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
