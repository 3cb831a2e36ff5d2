import { fileExporterFactory } from '../exporters/file/factory.ts';
import { httpReceiverFactory } from '../receivers/http/factory.ts';
import type { Factory } from './component.ts';

/**
 * The explicit list of every component ledgerline is built with, as the Collector's
 * components.go. Deleting a component is deleting its folder and its line here.
 */
export const factories: readonly Factory<any>[] = [
  // receivers
  httpReceiverFactory,
  // processors
  // exporters
  fileExporterFactory,
  // extensions
];
