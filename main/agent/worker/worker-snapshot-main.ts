/**
 * The worker program as the main function of a V8 start-up snapshot (issue 18): building
 * the snapshot (`node --build-snapshot`, scripts/bundle-worker.mjs) runs this file once, so
 * every module the worker needs is loaded, compiled and initialised into the snapshot's heap,
 * and one scripted segment (`warmUpWorker`) has run through its client and loop; a worker
 * started with `--snapshot-blob` deserialises that heap instead of loading its code, then
 * runs `runWorker`. Nothing here reads stdio or the environment: what runs at build
 * time must hold nothing of the machine it was built on.
 */
import { startupSnapshot } from 'node:v8';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { warmUpWorker } from './warm-up.ts';
import { endWorker, runWorker } from './worker-program.ts';

const validator = new AjvJsonSchemaValidator();
startupSnapshot.setDeserializeMainFunction(() => {
  void runWorker({ jsonSchemaValidator: validator }).then(endWorker);
});
// Snapshot entries are scripts, not modules (no top-level await): the build runs until the
// event loop is empty, so the warm-up finishes before the heap is taken. A failed warm-up
// fails the build: the snapshot would otherwise be taken as a good one.
warmUpWorker(validator).catch((e: unknown) => {
  process.stderr.write(
    `worker snapshot: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
