import type { ReceiverFactory } from '../../pipeline/component.ts';
import { type OtlpConfig, otlpConfigSchema } from './config.ts';
import { OtlpReceiver } from './receiver.ts';

/** The `otlp` receiver: OTLP logs, metrics and traces over gRPC (4317) and HTTP (4318). */
export const otlpReceiverFactory: ReceiverFactory<OtlpConfig> = {
  type: 'otlp',
  kind: 'receiver',
  description:
    'Receives OTLP logs, metrics and traces over gRPC and HTTP (protobuf or JSON) and maps them to events.',
  configSchema: otlpConfigSchema,
  create: (settings, config, next) => new OtlpReceiver(settings, config, next),
};
