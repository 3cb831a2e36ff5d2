import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/**
 * ledgerline's logger: JSON lines for machines, or one readable line per record on a terminal
 * (`12:00:01 INFO  http listening url=http://0.0.0.0:8080`). Logs never carry event payloads.
 */

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component', 'v']);

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in v)
    return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
}

/** Formats one JSON log line as text. */
export function formatLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line);
  } catch {
    return line;
  }
  const time = new Date(Number(rec.time)).toISOString().slice(11, 19);
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  const component = rec.component ? `${rec.component} ` : '';
  return `${time} ${LEVELS[Number(rec.level)] ?? rec.level} ${component}${rec.msg ?? ''}${fields ? ` ${fields}` : ''}\n`;
}

/** Creates the process logger. */
export function createLogger(format: 'json' | 'text', level: string): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime };
  if (format === 'json')
    return pino(
      { ...options, timestamp: pino.stdTimeFunctions.isoTime },
      pino.destination({ fd: 1, sync: true }),
    );
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      let text = '';
      for (const line of chunk.toString('utf8').split('\n')) if (line) text += formatLine(line);
      process.stdout.write(text, () => cb());
    },
  });
  return pino(options, out);
}
