-- Week (ISO, Monday) × tenant × event type × actor: a 30-day summary reads up to 6 edge days
-- from usage_rollup_daily_actor and whole weeks from here, about a third of the rows.
CREATE TABLE usage_rollup_weekly_actor (
  week          date             NOT NULL,
  tenant_id     text             NOT NULL,
  event_type    text             NOT NULL,
  actor_id      text             NOT NULL,
  events        bigint           NOT NULL,
  count_sum     double precision NOT NULL,
  estimated     double precision NOT NULL,
  tokens_input  bigint           NOT NULL,
  tokens_output bigint           NOT NULL,
  PRIMARY KEY (tenant_id, week, event_type, actor_id)
);
