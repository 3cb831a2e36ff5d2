-- The audit index answers forensic queries (extensions/ledger_api): one tenant, by actor,
-- action and time. Event ids come from producers, so one tenant must not be able to claim
-- another's id and hide that tenant's row (ON CONFLICT DO NOTHING): the key is per tenant.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE audit_events ADD PRIMARY KEY (tenant_id, event_id);
CREATE INDEX audit_events_tenant_action_time ON audit_events (tenant_id, action, occurred_at);
