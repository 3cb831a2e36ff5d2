import type { Origin } from './model.ts';
import { newAttributes } from './model.ts';
import { emptyScope, type FieldTable, readResource, readScope, skipField } from './proto-common.ts';
import { WIRE, WireReader } from './wire.ts';

/**
 * The envelope the three OTLP export requests share: Export<S>ServiceRequest holds
 * Resource<S> (field 1, repeated), each a resource and Scope<S> (field 2, repeated), each a
 * scope and the items (field 2, repeated). Only the names and the item decoder differ by
 * signal, so the walk is written once; each item points at its resource and scope (`Origin`).
 */

/** How one signal's export request is named and how one of its items is decoded. */
export interface ExportShape<T> {
  request: string;
  resource: string;
  scope: string;
  requestFields: FieldTable;
  resourceFields: FieldTable;
  scopeFields: FieldTable;
  /** Decodes one item (a log record, span or metric) ending at `end` into `out`. */
  readItem(r: WireReader, end: number, origin: Origin, out: T[]): void;
}

const LEN = WIRE.len;
const T_FIRST = (1 << 3) | LEN;
const T_SECOND = (2 << 3) | LEN;

/**
 * The shape of a signal from its message stem (`Logs`, `Metrics`, `Spans`), its field stem
 * (`logs`, `metrics`, `spans`) and its items' field name (`log_records`, `metrics`, `spans`).
 */
export function exportShape<T>(
  stem: { message: string; field: string; items: string; request?: string },
  readItem: ExportShape<T>['readItem'],
): ExportShape<T> {
  return {
    request: `Export${stem.request ?? stem.message}ServiceRequest`,
    resource: `Resource${stem.message}`,
    scope: `Scope${stem.message}`,
    requestFields: { 1: [`resource_${stem.field}`, LEN] },
    resourceFields: { 1: ['resource', LEN], 2: [`scope_${stem.field}`, LEN], 3: ['schema_url', LEN] },
    scopeFields: { 1: ['scope', LEN], 2: [stem.items, LEN], 3: ['schema_url', LEN] },
    readItem,
  };
}

/** Decodes an export request of `shape`; throws `invalid_request` when it is malformed. */
export function decodeExport<T>(body: Buffer, shape: ExportShape<T>): T[] {
  const r = new WireReader(body);
  const out: T[] = [];
  while (r.pos < body.length) {
    const tag = r.tag();
    if (tag === T_FIRST) readResourceItems(r, r.end(), shape, out);
    else skipField(r, tag, shape.requestFields, shape.request);
  }
  return out;
}

function readResourceItems<T>(r: WireReader, end: number, shape: ExportShape<T>, out: T[]): void {
  let resource = newAttributes();
  // The resource may come after its scopes on the wire: scopes read before it are updated.
  const origins: Origin[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === T_FIRST) {
      resource = readResource(r, r.end());
      for (const o of origins) o.resource = resource;
    } else if (tag === T_SECOND) {
      r.budget.value();
      const origin: Origin = { resource, scope: emptyScope() };
      origins.push(origin);
      readScopeItems(r, r.end(), origin, shape, out);
    } else skipField(r, tag, shape.resourceFields, shape.resource);
  }
  r.close(end);
}

function readScopeItems<T>(
  r: WireReader,
  end: number,
  origin: Origin,
  shape: ExportShape<T>,
  out: T[],
): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === T_SECOND) shape.readItem(r, r.end(), origin, out);
    else if (tag === T_FIRST) origin.scope = readScope(r, r.end());
    else skipField(r, tag, shape.scopeFields, shape.scope);
  }
  r.close(end);
}
