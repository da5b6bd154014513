import {
  TableNode,
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { BugError } from '../errors.ts';

/**
 * Refuses every query that names the `chain` table, for a transaction whose appends are
 * written only as it ends (`deferAppends`): such a query would not see the entries appended
 * so far, so a caller that reads the chain there gets a loud bug instead of a stale answer.
 */
export class ChainReadGuard implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (namesChain(args.node)) {
      throw new BugError(
        'a query on the chain table inside a transaction whose appends are deferred: its entries are not written yet; run it without deferAppends',
      );
    }
    return args.node;
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}

function namesChain(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (Array.isArray(node)) return node.some(namesChain);
  const op = node as OperationNode;
  if (TableNode.is(op) && op.table.identifier.name === 'chain') return true;
  return Object.values(node).some(namesChain);
}
