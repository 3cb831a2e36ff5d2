-- A counter per tenant that every fold (rollups.ts FOLD_PENDING) increments, in its own
-- transaction, for each tenant whose deltas it moves into the rollup tables. Only folds write
-- those tables (retention deletes only days older than any window the readers cache), so a
-- reader that finds the generation it cached a tenant's folded totals under knows they are
-- still exact, in any process; it then reads only the tenant's pending deltas, in the same
-- statement (same snapshot) as the generation (queries.ts).
CREATE TABLE usage_rollup_generation (
  tenant_id  text   PRIMARY KEY,
  generation bigint NOT NULL
);
