import type { BindingName } from '../sandbox/skill-sandbox.ts';

/**
 * The capability an operation must declare to use each binding (issue 17 #2); undefined means
 * every operation may use it. The registered capabilities are in manifest/capabilities.ts:
 * `compute.pure` grants no binding beyond these free ones.
 */
export const BINDING_CAPABILITY: Readonly<Record<BindingName, string | undefined>> = {
  'http.fetch': 'net.http',
  'memory.get': 'memory.read',
  'memory.put': 'memory.write',
  // Writing to the host's redacted log and reading the clock reach nothing outside.
  log: undefined,
  now: undefined,
};

/** The `rule_id` a capability refusal is audited under. */
export const CAPABILITY_RULE_ID = 'operation.capabilities';
