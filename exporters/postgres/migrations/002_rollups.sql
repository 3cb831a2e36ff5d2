-- Rollups maintained in the same transaction as each batch, from the rows that batch
-- actually inserted (so a replay never counts twice). Dimensions are '' rather than NULL so
-- that they can be part of the unique key ON CONFLICT matches.
-- latency_buckets: weights (count / sample_rate) per fixed bucket of LATENCY_BOUNDS_MS in
-- exporters/postgres/rollups.ts; summing arrays merges them, so p50/p95/p99 can be read
-- for any window.

CREATE FUNCTION ledgerline_add_buckets(a double precision[], b double precision[])
RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
  FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
$$;

CREATE AGGREGATE ledgerline_sum_buckets(double precision[]) (
  SFUNC = ledgerline_add_buckets,
  STYPE = double precision[]
);

CREATE TABLE usage_rollup_hourly (
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
  PRIMARY KEY (tenant_id, hour, event_type, actor_id, feature, tool, capability, provider, outcome)
);

CREATE TABLE usage_rollup_daily (
  day             date             NOT NULL,
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
  PRIMARY KEY (tenant_id, day, event_type, actor_id, feature, tool, capability, provider, outcome)
);

-- The grain of the seed 001 summary endpoints (day × tenant × event type × actor), kept
-- separately so a 30-day summary reads a few thousand rows, not every feature/tool split.
CREATE TABLE usage_rollup_daily_actor (
  day           date             NOT NULL,
  tenant_id     text             NOT NULL,
  event_type    text             NOT NULL,
  actor_id      text             NOT NULL,
  events        bigint           NOT NULL,
  count_sum     double precision NOT NULL,
  estimated     double precision NOT NULL,
  tokens_input  bigint           NOT NULL,
  tokens_output bigint           NOT NULL,
  PRIMARY KEY (tenant_id, day, event_type, actor_id)
);
