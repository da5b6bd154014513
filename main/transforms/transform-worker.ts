import { parentPort } from 'node:worker_threads';
import { runTransformJob, type TransformJob } from './transform-job.ts';

/*
 * A transform thread's entry (main/transforms/transform-threads.ts): one job, one answer
 * envelope, then the host terminates the thread. The job is the host's own (parsed on the
 * main thread), so it is trusted here; the text inside it is not, which is why it runs here.
 */
const port = parentPort;
if (port === null) throw new Error('transform-worker runs only as a worker thread');
port.once('message', (job: TransformJob) => {
  try {
    port.postMessage({ ok: true, value: runTransformJob(job) });
  } catch (e) {
    port.postMessage({
      ok: false,
      error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) },
    });
  }
});
