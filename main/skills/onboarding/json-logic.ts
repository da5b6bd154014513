import { createRequire } from 'node:module';

/** The part of json-logic-js the host uses (the package ships no types). */
type JsonLogicModule = { apply: (rule: unknown, data: unknown) => unknown };

const require = createRequire(import.meta.url);

/**
 * Evaluates a JSON Logic rule (https://jsonlogic.com) over `data`. Rules are data, never
 * code: an unknown operator throws, which the compiler uses to refuse a bad `until`.
 */
export function applyJsonLogic(rule: unknown, data: unknown): unknown {
  // Loaded per call through Node's cache: no module-level state of our own.
  return (require('json-logic-js') as JsonLogicModule).apply(rule, data);
}
