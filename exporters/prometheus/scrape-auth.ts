import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PipelineError } from '../../pipeline/errors.ts';
import type { PrometheusConfig } from './config.ts';

/**
 * Scrape authentication. The business series are aggregates across tenants (and per tenant
 * where configured), so no tenant credential may read them: a scrape needs a dedicated token
 * that Prometheus reads from a file (`authorization: { credentials_file }`). On first start the
 * file is created with a random token, so the default is both closed and scrapeable.
 */

/** Checks `Authorization` headers of scrapes. */
export interface ScrapeAuth {
  /** Throws `unauthenticated` unless the header carries the scrape token. */
  check(header: string | undefined): void;
  /** The token file, when bearer auth is on and the file was created at this start. */
  created?: string;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Loads (or creates) the scrape token and returns its checker. */
export function loadScrapeAuth(config: PrometheusConfig['auth']): ScrapeAuth {
  if (config.mode === 'none') return { check: () => {} };
  const file = config.bearer_token_file;
  let created: string | undefined;
  if (!existsSync(file)) {
    if (!config.create_token_file) {
      throw new PipelineError('config_invalid', `auth.bearer_token_file: ${file} does not exist`);
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `llp_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    created = file;
  }
  const token = readFileSync(file, 'utf8').split('\n')[0]!.trim();
  if (token.length < 16) {
    throw new PipelineError(
      'config_invalid',
      `auth.bearer_token_file: ${file} must hold a token of at least 16 characters`,
    );
  }
  // Compare digests, so the comparison takes the same time whatever the length of the guess.
  const expected = digest(token);
  const check = (header: string | undefined) => {
    const m = header ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      throw new PipelineError('unauthenticated', 'the scrape token is missing or wrong');
    }
  };
  return created ? { check, created } : { check };
}
