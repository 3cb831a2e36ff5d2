import type { ExtensionFactory } from '../../pipeline/component.ts';
import { type UsageApiConfig, usageApiConfigSchema } from './config.ts';
import { UsageApi } from './usage-api.ts';

/** The `usage_api` extension: seed 001's admin usage endpoints, answered from postgres rollups. */
export const usageApiFactory: ExtensionFactory<UsageApiConfig> = {
  type: 'usage_api',
  kind: 'extension',
  description:
    'GET /api/v1/usage/summary, /users, /queries, /dashboards, /llm-tokens, /latency for admins of a tenant, answered from the postgres exporter’s rollups.',
  configSchema: usageApiConfigSchema,
  create: (settings, config) => new UsageApi(settings, config),
};
