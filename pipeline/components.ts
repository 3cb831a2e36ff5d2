import { fileExporterFactory } from '../exporters/file/factory.ts';
import { kafkaExporterFactory } from '../exporters/kafka/factory.ts';
import { ledgerExporterFactory } from '../exporters/ledger/factory.ts';
import { postgresExporterFactory } from '../exporters/postgres/factory.ts';
import { prometheusExporterFactory } from '../exporters/prometheus/factory.ts';
import { ledgerApiFactory } from '../extensions/ledger_api/factory.ts';
import { usageApiFactory } from '../extensions/usage_api/factory.ts';
import { batchFactory } from '../processors/batch/factory.ts';
import { memoryLimiterFactory } from '../processors/memory-limiter/factory.ts';
import { redactionFactory } from '../processors/redaction/factory.ts';
import { samplingFactory } from '../processors/sampling/factory.ts';
import { tenantValidationFactory } from '../processors/tenant/factory.ts';
import { httpReceiverFactory } from '../receivers/http/factory.ts';
import { kafkaReceiverFactory } from '../receivers/kafka/factory.ts';
import { otlpReceiverFactory } from '../receivers/otlp/factory.ts';
import type { AnyFactory } from './component.ts';

/**
 * The explicit list of every component ledgerline is built with, as the Collector's
 * components.go. Deleting a component is deleting its folder and its line here.
 */
export const factories: readonly AnyFactory[] = [
  // receivers
  httpReceiverFactory,
  otlpReceiverFactory,
  kafkaReceiverFactory,
  // processors
  memoryLimiterFactory,
  redactionFactory,
  tenantValidationFactory,
  samplingFactory,
  batchFactory,
  // exporters
  fileExporterFactory,
  kafkaExporterFactory,
  ledgerExporterFactory,
  prometheusExporterFactory,
  postgresExporterFactory,
  // extensions
  ledgerApiFactory,
  usageApiFactory,
];
