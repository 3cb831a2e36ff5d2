import type { ReceiverFactory } from '../../pipeline/component.ts';
import { type HttpReceiverConfig, httpReceiverConfigSchema } from './config.ts';
import { HttpReceiver } from './receiver.ts';

/** The `http` receiver: native JSON ingest and seed 001's usage API. */
export const httpReceiverFactory: ReceiverFactory<HttpReceiverConfig> = {
  type: 'http',
  kind: 'receiver',
  description:
    'JSON over HTTP: POST /api/v1/events (envelopes) and POST /api/v1/usage/events; also serves extension APIs.',
  configSchema: httpReceiverConfigSchema,
  create: (settings, config, next) => new HttpReceiver(settings, config, next),
};
