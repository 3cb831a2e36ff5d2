-- Raw usage rows (seeds 000/001), one partition per UTC day on occurred_at.
-- A unique key on a partitioned table must contain the partition key, so the key is
-- (id, occurred_at): a replay carries the same envelope, hence the same occurred_at, and
-- collides here. Same id with another occurred_at is caught by the writer's window probe
-- (see README "Exactly once").
CREATE TABLE usage_events (
  id            uuid             NOT NULL,
  occurred_at   timestamptz      NOT NULL,
  recorded_at   timestamptz      NOT NULL,
  tenant_id     text             NOT NULL,
  actor_id      text             NOT NULL,
  event_type    text             NOT NULL,
  feature       text,
  tool          text,
  capability    text,
  provider      text,
  workspace_id  text,
  count         double precision NOT NULL DEFAULT 1 CHECK (count >= 0),
  latency_ms    double precision CHECK (latency_ms >= 0),
  outcome       text             NOT NULL CHECK (outcome IN ('ok', 'warn', 'error')),
  sample_rate   double precision NOT NULL DEFAULT 1 CHECK (sample_rate > 0 AND sample_rate <= 1),
  tokens_input  bigint,
  tokens_output bigint,
  source        text,
  metadata      jsonb            NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

-- Non-authoritative index of audit events (the ledger is the record; DESIGN §7).
CREATE TABLE audit_events (
  event_id     uuid        PRIMARY KEY,
  tenant_id    text        NOT NULL,
  actor_id     text        NOT NULL,
  occurred_at  timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL,
  action       text        NOT NULL,
  result       text        NOT NULL,
  entity_type  text,
  entity_id    text,
  -- Leaf index in the tenant's ledger when known; clients re-verify with it.
  leaf_index   bigint
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at);
CREATE INDEX audit_events_tenant_actor_time ON audit_events (tenant_id, actor_id, occurred_at);

-- Events the database can never take (bad bytes, oversized keys, out of the kept window),
-- with the reason: nothing is dropped silently.
CREATE TABLE dead_letters (
  event_id    uuid        PRIMARY KEY,
  tenant_id   text,
  event_class text        NOT NULL,
  reason      text        NOT NULL,
  detail      text        NOT NULL,
  event       text        NOT NULL,
  dead_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_time ON dead_letters (dead_at);
