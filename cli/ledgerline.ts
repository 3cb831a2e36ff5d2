#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, type LoadResult, loadConfigFiles } from '../config/load.ts';
import { startOtlpSelfTelemetry } from '../exporters/prometheus/otlp-export.ts';
import { factories } from '../pipeline/components.ts';
import { Service } from '../pipeline/service.ts';
import { parseArgs } from './args.ts';
import { ledgerCommand } from './ledger.ts';
import { createLogger } from './log.ts';

/**
 * The `ledgerline` command. The only place that may call process.exit (STYLE §8).
 */

const ROOT = join(import.meta.dirname, '..');
const DEFAULT_CONFIG = join(ROOT, 'config', 'ledgerline.yaml');
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

const HELP = `ledgerline ${VERSION} — a pipeline for compliance-grade usage and audit events

Usage:
  ledgerline run [--config FILE ...] [--log-format text|json] [--log-level LEVEL] [--shutdown-timeout SECONDS]
      Start the pipelines. Several --config files are merged, later ones winning.
      Default config: config/ledgerline.yaml (embedded defaults, no external service).
  ledgerline validate [--config FILE ...]
      Check the configuration without starting anything; print every problem as file:line:col.
  ledgerline ledger <keygen|verify|prove|consistency> ...
      Audit ledger tools (ledgerline ledger --help).
  ledgerline --help | --version
`;

function configPaths(flags: Map<string, string[]>): string[] {
  return flags.get('config') ?? [DEFAULT_CONFIG];
}

function report(result: LoadResult): void {
  for (const d of result.warnings) process.stderr.write(`${formatDiagnostic(d)}\n`);
  for (const d of result.errors) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

async function validate(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { config: true });
  const result = loadConfigFiles(configPaths(flags), factories);
  report(result);
  if (result.errors.length > 0) {
    process.stderr.write(`${result.errors.length} error(s) in the configuration\n`);
    return 1;
  }
  process.stdout.write(
    `configuration is valid${result.warnings.length ? ` (${result.warnings.length} warning(s))` : ''}\n`,
  );
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, {
    config: true,
    'log-format': true,
    'log-level': true,
    'shutdown-timeout': true,
  });
  const result = loadConfigFiles(configPaths(flags), factories);
  report(result);
  if (!result.config) {
    process.stderr.write(`${result.errors.length} error(s) in the configuration; not starting\n`);
    return 1;
  }
  const config = result.config;
  const format = (flags.get('log-format')?.[0] ?? (process.stdout.isTTY ? 'text' : 'json')) as
    | 'json'
    | 'text';
  const logger = createLogger(format, flags.get('log-level')?.[0] ?? config.telemetry.logs.level);
  const timeoutMs = Number(flags.get('shutdown-timeout')?.[0] ?? 30) * 1000;

  let service: Service;
  try {
    service = await Service.start(config, { logger });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'ledgerline could not start');
    return 1;
  }
  // Optional push of the self-metrics over OTLP (service.telemetry.metrics.otlp).
  const otlp = config.telemetry.metrics.otlp
    ? startOtlpSelfTelemetry(service.telemetry.registry, config.telemetry.metrics.otlp)
    : undefined;
  logger.info(
    {
      version: VERSION,
      pipelines: config.pipelines.map((p) => p.id).join(','),
      config: configPaths(flags).join(','),
    },
    'ledgerline started',
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without draining');
        resolve(130);
        return;
      }
      stopping = true;
      logger.info({ signal, timeout_ms: timeoutMs }, 'draining');
      service
        .shutdown(AbortSignal.timeout(timeoutMs))
        .then(() => otlp?.shutdown())
        .then(() => {
          logger.info('stopped');
          resolve(0);
        })
        .catch((err) => {
          logger.error({ err: (err as Error).message }, 'shutdown failed');
          resolve(1);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run(rest);
    case 'validate':
      return validate(rest);
    case 'ledger':
      return ledgerCommand(rest);
    case '--version':
    case 'version':
      process.stdout.write(`ledgerline ${VERSION}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`ledgerline: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ledgerline: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
