import type { SpawnedWorker, WorkerHandoff } from '../../main/agent/spawn/spawner.ts';

/**
 * `worker` as it is, except that `onHandOff` hears its hand-off first: how a test spawner
 * learns which worker served which run when the host's pool starts workers before it knows.
 */
export function notingHandOff(
  worker: SpawnedWorker,
  onHandOff: (handoff: WorkerHandoff) => void,
): SpawnedWorker {
  return {
    pid: worker.pid,
    stdin: worker.stdin,
    stdout: worker.stdout,
    stderr: worker.stderr,
    exited: worker.exited,
    get runId() {
      return worker.runId;
    },
    handOff: (handoff) => {
      worker.handOff(handoff);
      onHandOff(handoff);
    },
    kill: (signal) => {
      worker.kill(signal);
    },
    dispose: () => worker.dispose(),
  };
}
