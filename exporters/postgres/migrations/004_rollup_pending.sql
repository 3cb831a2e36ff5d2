-- Rollup deltas of committed batches not yet folded into the rollup tables. Each batch's
-- transaction appends the hourly-grain deltas of the events it inserted here (a plain heap
-- append, no index, no read-modify-write); a fold (rollups.ts FOLD_PENDING) moves them into
-- usage_rollup_hourly / _daily / _daily_actor / _weekly_actor in one transaction, merging the
-- keys that repeat across batches. Readers add the rows still here, so answers stay exact.
-- The CHECK keeps every key well under the 2704-byte btree row limit of the rollup tables:
-- a key that could never be folded is refused with its batch (and dead-lettered) instead.
CREATE TABLE usage_rollup_pending (
  hour            timestamptz      NOT NULL,
  tenant_id       text             NOT NULL,
  event_type      text             NOT NULL,
  actor_id        text             NOT NULL,
  feature         text             NOT NULL,
  tool            text             NOT NULL,
  capability      text             NOT NULL,
  provider        text             NOT NULL,
  outcome         text             NOT NULL,
  events          bigint           NOT NULL,
  count_sum       double precision NOT NULL,
  estimated       double precision NOT NULL,
  latency_weight  double precision NOT NULL,
  latency_sum     double precision NOT NULL,
  latency_buckets double precision[] NOT NULL,
  tokens_input    bigint           NOT NULL,
  tokens_output   bigint           NOT NULL,
  CONSTRAINT usage_rollup_pending_key_size CHECK (
    octet_length(tenant_id) + octet_length(event_type) + octet_length(actor_id) + octet_length(feature)
    + octet_length(tool) + octet_length(capability) + octet_length(provider) + octet_length(outcome) <= 2400
  )
);
