/**
 * The peer measurement of issue 18: LangGraph.js's durable step. One graph node per step,
 * the node looping on itself `steps` times in one invoke, checkpointed by
 * `@langchain/langgraph-checkpoint-sqlite` with `durability: "sync"` (each superstep's
 * checkpoint is written before the next one starts). A step's time is the gap between two
 * consecutive entries into the node, so it holds the checkpoint write and LangGraph's own
 * scheduling, as the project's tool-call round trip holds its durable record.
 *
 * The packages are not product dependencies: they live in `test/bench/peers/` (own
 * package.json and lockfile, installed on demand) and are loaded from there at run time,
 * so the product's build neither needs nor sees them. Absent packages give `undefined`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectPath } from '../support/project-path.ts';

export const PEERS_DIR = projectPath('test', 'bench', 'peers');
export const PEER_SKIPPED = 'peer: skipped (run npm --prefix test/bench/peers ci)';

/** How the peer's SQLite connection syncs: the driver's default, or the project's own. */
export type PeerSync = 'default' | 'full';

/** The few LangGraph and better-sqlite3 shapes this measurement touches. */
type StepState = { n: number };
type CompiledGraph = {
  invoke: (input: StepState, options: Record<string, unknown>) => Promise<StepState>;
};
type GraphBuilder = {
  addNode: (name: string, fn: (s: StepState) => StepState) => GraphBuilder;
  addEdge: (from: string, to: string) => GraphBuilder;
  addConditionalEdges: (from: string, route: (s: StepState) => string) => GraphBuilder;
  compile: (options: { checkpointer: unknown }) => CompiledGraph;
};
type LangGraphModule = {
  StateGraph: new (state: unknown) => GraphBuilder;
  Annotation: { Root: (spec: Record<string, unknown>) => unknown } & (() => unknown);
  START: string;
  END: string;
};
type SqliteSaverModule = {
  SqliteSaver: new (db: unknown) => unknown;
};
type SqliteDatabase = {
  pragma: (source: string, options?: { simple: boolean }) => unknown;
  close: () => void;
};
type BetterSqlite3 = new (filename: string) => SqliteDatabase;

type PeerModules = {
  langgraph: LangGraphModule;
  saver: SqliteSaverModule;
  Database: BetterSqlite3;
};

/** Loads the peer's packages from test/bench/peers/node_modules, or `undefined`. */
export async function loadPeer(): Promise<PeerModules | undefined> {
  if (!existsSync(path.join(PEERS_DIR, 'node_modules', '@langchain', 'langgraph'))) {
    return undefined;
  }
  const require = createRequire(path.join(PEERS_DIR, 'package.json'));
  const load = async <T>(specifier: string): Promise<T> =>
    (await import(pathToFileURL(require.resolve(specifier)).href)) as T;
  const databaseModule = await load<{ default: BetterSqlite3 }>('better-sqlite3');
  return {
    langgraph: await load<LangGraphModule>('@langchain/langgraph'),
    saver: await load<SqliteSaverModule>('@langchain/langgraph-checkpoint-sqlite'),
    Database: databaseModule.default,
  };
}

/**
 * Per-step times (ms, in order) of one invoke of `steps` supersteps, checkpointed into a
 * fresh SQLite file under `dir`. `sync: 'full'` sets `synchronous = full` on the peer's
 * connection, as the project's store runs; better-sqlite3's default in WAL mode is NORMAL
 * (no fsync per commit).
 */
export async function measurePeerSteps(
  peer: PeerModules,
  dir: string,
  steps: number,
  sync: PeerSync,
): Promise<number[]> {
  const { StateGraph, Annotation, START, END } = peer.langgraph;
  const db = new peer.Database(path.join(dir, `langgraph-${sync}-${String(Date.now())}.sqlite`));
  try {
    const checkpointer = new peer.saver.SqliteSaver(db);
    // SqliteSaver also asks for WAL on first use; set here so the sync mode applies to it.
    db.pragma('journal_mode = WAL');
    if (sync === 'full') db.pragma('synchronous = FULL');
    const entered: number[] = [];
    const State = Annotation.Root({ n: Annotation() });
    const graph = new StateGraph(State)
      .addNode('step', (s) => {
        entered.push(performance.now());
        return { n: s.n + 1 };
      })
      .addEdge(START, 'step')
      .addConditionalEdges('step', (s) => (s.n >= steps ? END : 'step'))
      .compile({ checkpointer });
    const out = await graph.invoke(
      { n: 0 },
      {
        configurable: { thread_id: `bench-${sync}` },
        recursionLimit: steps + 10,
        durability: 'sync',
      },
    );
    if (out.n !== steps) throw new Error(`peer graph ran ${String(out.n)} of ${String(steps)}`);
    const synchronous = db.pragma('synchronous', { simple: true });
    if (sync === 'full' && synchronous !== 2) {
      throw new Error(`peer connection synchronous=${String(synchronous)}, wanted 2 (full)`);
    }
    return entered.slice(1).map((t, i) => t - (entered[i] ?? t));
  } finally {
    db.close();
  }
}
