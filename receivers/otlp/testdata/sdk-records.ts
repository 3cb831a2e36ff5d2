import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import fc from 'fast-check';
import type { AnyValue } from '../model.ts';

/**
 * Test inputs for the decoders: fast-check arbitraries for attribute trees and log records in
 * the shape the OpenTelemetry SDK hands its serializers (ReadableLogRecord), and `normalise`,
 * which puts SDK values and decoded values in one comparable form.
 */

/** A value the SDK accepts as an attribute or body: every AnyValue kind, nested. */
export type SdkValue = string | number | boolean | Uint8Array | null | SdkValue[] | { [k: string]: SdkValue };

const key = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((k) => k !== '__proto__');

const scalar: fc.Arbitrary<SdkValue> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.boolean(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.maxSafeInteger(),
  // Integers past 2^53 that doubles hold exactly: int_value keeps them exact on the wire.
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 62n }).map((b) => Number(b)),
  // Doubles JSON can carry (no NaN/Infinity, no -0) and that are not whole numbers.
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.uint8Array({ maxLength: 8 }),
  fc.constant(null),
);

/** Attribute trees up to four levels deep. */
export const anyValue: fc.Arbitrary<SdkValue> = fc.letrec<{ value: SdkValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Attribute sets of up to eight keys. */
export const attributes = fc.dictionary(key, anyValue, { maxKeys: 8 });

const hex = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .filter((b) => b.some((x) => x !== 0))
    .map((b) => Buffer.from(b).toString('hex'));

const hrTime: fc.Arbitrary<HrTime> = fc.tuple(
  fc.integer({ min: 1, max: 4_000_000_000 }),
  fc.integer({ min: 0, max: 999_999_999 }),
);

/** A log record as the SDK's serializers take it (the fields they read). */
export interface SdkLogRecord {
  hrTime: HrTime;
  hrTimeObserved: HrTime;
  severityNumber: number | undefined;
  severityText: string | undefined;
  body: SdkValue | undefined;
  attributes: Record<string, SdkValue>;
  droppedAttributesCount: number;
  spanContext: { traceId: string; spanId: string; traceFlags: number } | undefined;
  eventName: string | undefined;
  resource: ReturnType<typeof resourceFromAttributes>;
  instrumentationScope: { name: string; version?: string };
}

/** Random log records under one random resource and scope. */
export const logRecords = fc
  .record({
    resource: attributes,
    scope: fc.string({ unit: 'grapheme', maxLength: 10 }),
    records: fc.array(
      fc.record({
        hrTime,
        hrTimeObserved: hrTime,
        severityNumber: fc.option(fc.integer({ min: 1, max: 24 }), { nil: undefined }),
        severityText: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), {
          nil: undefined,
        }),
        body: fc.option(anyValue, { nil: undefined }),
        attributes,
        span: fc.option(fc.record({ traceId: hex(16), spanId: hex(8) }), { nil: undefined }),
        eventName: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), {
          nil: undefined,
        }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  })
  .map(({ resource, scope, records }) => {
    const res = resourceFromAttributes(resource as never);
    const instrumentationScope = { name: scope };
    return records.map(
      (r): SdkLogRecord => ({
        hrTime: r.hrTime,
        hrTimeObserved: r.hrTimeObserved,
        severityNumber: r.severityNumber,
        severityText: r.severityText,
        body: r.body,
        attributes: r.attributes,
        droppedAttributesCount: 0,
        spanContext: r.span ? { ...r.span, traceFlags: 1 } : undefined,
        eventName: r.eventName,
        resource: res,
        instrumentationScope,
      }),
    );
  });

/** Milliseconds of an HrTime, as the decoders give them (whole, rounded down). */
export function hrTimeMs([s, ns]: HrTime): number {
  return s * 1000 + Math.floor(ns / 1e6);
}

/**
 * One comparable form for SDK and decoded values: integers past 2^53 as bigint (the wire
 * carries them exactly), bytes as arrays, maps as plain objects with sorted keys.
 */
export function normalise(v: SdkValue | AnyValue | undefined): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  if (Array.isArray(v)) return v.map((x) => normalise(x));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = normalise((v as Record<string, SdkValue>)[k]);
  return out;
}
