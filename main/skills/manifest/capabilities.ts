/**
 * The capabilities this gateway registers. A skill operation may only declare these; a
 * manifest naming another is rejected at load (ARCHITECTURE.md §7, load contract).
 */
export const REGISTERED_CAPABILITIES: ReadonlySet<string> = new Set([
  /** Pure computation on the input: no binding is used. */
  'compute.pure',
  /** Reads `ccos.memory` in the skill's declared namespaces. */
  'memory.read',
  /** Writes `ccos.memory` in the skill's declared namespaces. */
  'memory.write',
  /** Calls `ccos.http.fetch` to the skill's declared origins. */
  'net.http',
]);
