import { describe, expect, it } from 'vitest';
import { configSchema } from './config.ts';

describe('ledger config', () => {
  it('defaults to a development-safe config with a 1 s checkpoint interval', () => {
    expect(configSchema.parse({})).toEqual({
      dir: './data/ledger',
      origin: 'ledgerline.local',
      signing_key_file: '',
      generate_key: false,
      checkpoint_interval: 1000,
    });
  });

  it('reads durations in ms, s, m or plain seconds', () => {
    const ms = (v: unknown) => configSchema.parse({ checkpoint_interval: v }).checkpoint_interval;
    expect([ms('250ms'), ms('2s'), ms('1m'), ms(0.5)]).toEqual([250, 2000, 60_000, 500]);
  });

  it('refuses unknown keys, bad durations and origins that cannot name a key', () => {
    for (const bad of [
      { dirr: 'x' },
      { checkpoint_interval: '1h' },
      { checkpoint_interval: 0 },
      { origin: 'a b' },
      { origin: 'a+b' },
      { origin: 'x/' },
    ]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
