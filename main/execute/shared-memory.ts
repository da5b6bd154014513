import type { CausalChain } from '../chain/causal-chain.ts';
import { runAudienceIn } from '../memory/memory-audience.ts';
import { EVERY_STORABLE_LABEL } from '../memory/memory-policy.ts';
import type { MemoryStore } from '../memory/memory-store.ts';

/** A namespace of the person's own: no `skill:`, `run:`, `session:` or `shared:` prefix. */
const SHARED_NAMESPACE = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Reads an item of a shared namespace (e.g. the person's `profile`), for autofill, as the run
 * it fills a call for may read it: an item bound to another session, or expired, is absent. A
 * skill's namespaces are stored apart (`skill:<id>:<ns>`), and so are agents' shared ones
 * (`shared:<ns>`), so neither can plant values that autofill would hand to other skills.
 */
export async function readSharedMemory(
  deps: { chain: CausalChain; memory: MemoryStore },
  namespace: string,
  key: string,
  runId: string,
): Promise<unknown> {
  if (!SHARED_NAMESPACE.test(namespace)) return null;
  return deps.chain.transact(async (tx) => {
    const record = await deps.memory.readIn(
      tx,
      {
        audience: await runAudienceIn(tx, runId),
        clearance: EVERY_STORABLE_LABEL,
        audit: { actor: 'host', run_id: runId, data: { reader: 'autofill' } },
      },
      namespace,
      key,
    );
    return record?.value ?? null;
  });
}
