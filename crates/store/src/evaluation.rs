//! The market evaluation's one query beyond the generic API: a member's own
//! records of a day (its alerts for the portrait's count and a member-scoped
//! view), filtered by owner and id prefix in SQL so that no other member's
//! rows are read or decrypted. The tables (reference levels, outage notices,
//! alerts) are in migrations/0009_market_evaluation.sql; the types and the
//! rules are voltex-market's `evaluation`.
use sqlx::AssertSqlSafe;

use crate::{Entity, Record, Result, Store};

impl Store {
    /// The latest version of every record owned by `member_id` whose id
    /// starts with `prefix`, by id.
    pub async fn list_owned_prefixed<T: Entity>(
        &self,
        member_id: &str,
        prefix: &str,
    ) -> Result<Vec<Record<T>>> {
        assert!(T::OWNED, "{} records have no owner", T::NAME);
        let sql = format!(
            "SELECT t.id, t.version, t.recorded_at, t.body FROM {0} t \
             JOIN (SELECT id, MAX(version) AS v FROM {0} \
                   WHERE member_id = $1 AND substr(id, 1, CAST($3 AS INTEGER)) = $2 GROUP BY id) l \
             ON t.id = l.id AND t.version = l.v ORDER BY t.id",
            T::TABLE
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(member_id.to_owned())
            .bind(prefix.to_owned())
            .bind(prefix.chars().count() as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.decode_record(r)).collect()
    }
}
