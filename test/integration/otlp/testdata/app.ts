import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * An application instrumented with the stock OpenTelemetry Node SDK and nothing else: every
 * setting (endpoint, protocol, tenant token header, service name) comes from the standard
 * OTEL_* environment variables. It emits one log record, one span and one counter increment
 * tagged with RUN, then shuts the SDK down, which flushes every signal.
 */

const run = process.env.RUN ?? 'no-run';
const sdk = new NodeSDK({ instrumentations: [] });
sdk.start();

logs
  .getLogger('app')
  .emit({ eventName: 'order.placed', attributes: { run, 'enduser.id': 'buyer-1', items: 3 } });
const span = trace.getTracer('app').startSpan('checkout', { attributes: { run, 'enduser.id': 'buyer-1' } });
span.setStatus({ code: SpanStatusCode.OK });
span.end();
metrics.getMeter('app').createCounter('orders.placed').add(2, { run, 'enduser.id': 'buyer-1' });

await sdk.shutdown();
