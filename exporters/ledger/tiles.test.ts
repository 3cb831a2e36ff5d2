import { describe, expect, it } from 'vitest';
import {
  decodeBundle,
  encodeBundle,
  encodeIndex,
  levelsFor,
  parseTilePath,
  tilePath,
  tilesAtLevel,
} from './tiles.ts';

describe('tlog-tiles layout', () => {
  it('encodes tile indexes as x-prefixed 3-digit path elements', () => {
    expect(encodeIndex(0)).toBe('000');
    expect(encodeIndex(5)).toBe('005');
    expect(encodeIndex(1000)).toBe('x001/000');
    expect(encodeIndex(1234067)).toBe('x001/x234/067');
    expect(tilePath({ level: 1, n: 1234067, width: 256 })).toBe('tile/1/x001/x234/067');
    expect(tilePath({ level: 'entries', n: 2, width: 17 })).toBe('tile/entries/002.p/17');
  });

  it('parses only canonical tile paths', () => {
    expect(parseTilePath('tile/0/x001/x234/067.p/255')).toEqual({ level: 0, n: 1234067, width: 255 });
    expect(parseTilePath('tile/entries/000')).toEqual({ level: 'entries', n: 0, width: 256 });
    for (const bad of [
      'tile/0/5',
      'tile/0/x000/005',
      'tile/0/000.p/0',
      'tile/0/000.p/256',
      'tile/64/000',
      'tile/../000',
      'tile/0/000/',
      'tile/01/000',
    ]) {
      expect(parseTilePath(bad), bad).toBeUndefined();
    }
  });

  it('lists the tiles of the spec example tree of 70,000 entries', () => {
    // tlog-tiles: 273 full level-0 tiles, a level-0 partial of 112, one full level-1 tile,
    // a level-1 partial of 17 and a level-2 partial of 1.
    const l0 = tilesAtLevel(70_000, 0);
    expect(l0.length).toBe(274);
    expect(l0.at(-1)).toEqual({ level: 0, n: 273, width: 112 });
    expect(tilesAtLevel(70_000, 1)).toEqual([
      { level: 1, n: 0, width: 256 },
      { level: 1, n: 1, width: 17 },
    ]);
    expect(tilesAtLevel(70_000, 2)).toEqual([{ level: 2, n: 0, width: 1 }]);
    expect(levelsFor(70_000)).toBe(3);
    expect(tilesAtLevel(256, 1)).toEqual([{ level: 1, n: 0, width: 1 }]);
  });

  it('round-trips entry bundles with uint16 big-endian lengths', () => {
    const entries = [Buffer.from(''), Buffer.from('a'), Buffer.alloc(0xffff, 1)];
    const data = encodeBundle(entries);
    expect(data.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 1, 0x61]));
    expect(decodeBundle(data)).toEqual(entries);
    expect(() => encodeBundle([Buffer.alloc(0x10000)])).toThrow();
    expect(() => decodeBundle(data.subarray(0, data.length - 1))).toThrow();
  });
});
