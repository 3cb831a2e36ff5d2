import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A real single-node Apache Kafka 4.x (KRaft) for tests, started by test/services/kafka.sh from
 * the broker jars on Maven Central with the machine's Java 17. Each call starts its own broker
 * on free ports in a fresh directory. A missing Java, Maven or kcat is an error, never a skip:
 * run test/services/install-kafka.sh.
 */

/** A running broker. */
export interface KafkaService {
  /** Bootstrap addresses, `127.0.0.1:<port>`. */
  brokers: string[];
  /** With `saslPlain`: the SASL_PLAINTEXT (PLAIN) listener's address. */
  saslBrokers: string[];
  /** With `tls`: the SSL listener's address, and the CA that signed its certificate. */
  tlsBrokers: string[];
  caFile: string;
  /** The broker's directory: config, data, server.log. */
  dir: string;
  /** Stops the broker gracefully and starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops the broker (SIGTERM) and keeps the data. */
  halt(): Promise<void>;
  /** Starts a halted broker again. */
  start(): Promise<void>;
  /** Stops the broker and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const SCRIPT = join(import.meta.dirname, 'kafka.sh');
const run = promisify(execFile);

function requireTool(name: string, hint: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${name} is not installed (${hint}); run test/services/install-kafka.sh`);
  }
}

/** Fails with a clear message when the broker cannot be run here. */
export function requireKafkaTools(): void {
  requireTool('java', 'Java 17 runs the broker');
  requireTool('mvn', 'Maven fetches the broker jars');
  requireTool('kcat', 'kcat is the independent producer and consumer');
}

async function scriptIn(env: Record<string, string>, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('bash', [SCRIPT, ...args], {
      // The broker stops with this test process even if it dies without cleaning up.
      env: { ...process.env, ...env, KAFKA_WATCH_PID: String(process.pid) },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`kafka.sh ${args[0]} failed: ${e.stderr || e.message}`);
  }
}

/** Options of a test broker. */
export interface KafkaOptions {
  /** Also listen with SASL_PLAINTEXT, accepting this one PLAIN user. */
  saslPlain?: { username: string; password: string };
  /** Also listen with TLS, with a certificate for 127.0.0.1 from a throw-away CA (`caFile`). */
  tls?: boolean;
}

/** A throw-away CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=ledgerline-test-ca',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  writeFileSync(
    join(dir, 'server.pem'),
    readFileSync(join(dir, 'server.key'), 'utf8') + readFileSync(join(dir, 'server.crt'), 'utf8'),
  );
}

/** Starts a fresh broker; stop() it in afterAll. */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaService> {
  requireKafkaTools();
  const dir = mkdtempSync(join(tmpdir(), 'ledgerline-kafka-'));
  const env: Record<string, string> = {};
  if (options.saslPlain) env.KAFKA_SASL_PLAIN = `${options.saslPlain.username}:${options.saslPlain.password}`;
  if (options.tls) {
    requireTool('openssl', 'it makes the test certificates');
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    makeCertificates(certs);
    env.KAFKA_TLS_DIR = certs;
  }
  const script = (...args: string[]) => scriptIn(env, ...args);
  let broker: string;
  try {
    broker = await script('start', dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    brokers: [broker],
    saslBrokers: options.saslPlain ? [readFileSync(join(dir, 'sasl_broker'), 'utf8').trim()] : [],
    tlsBrokers: options.tls ? [readFileSync(join(dir, 'tls_broker'), 'utf8').trim()] : [],
    caFile: options.tls ? join(dir, 'certs', 'ca.pem') : '',
    dir,
    restart: async () => {
      await script('stop', dir);
      await script('start', dir);
    },
    halt: async () => {
      await script('stop', dir);
    },
    start: async () => {
      await script('start', dir);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await script('stop', dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs kcat with arguments and optional standard input; resolves with its standard output. */
export async function kcat(args: string[], input?: string | Buffer): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const child = execFile(
      'kcat',
      args,
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${stderr.toString() || err.message}`));
        else resolve(stdout);
      },
    );
    child.stdin!.end(input ?? '');
  });
}
