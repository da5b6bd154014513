import type { TransformKind, VerifierResult } from '../../contracts/transforms.ts';
import { extract, redact, summarize, type TransformSource } from './deterministic-transforms.ts';
import type { MessageIds } from './identifiers.ts';
import { verifyOutput, type VerifierLimits } from './redaction-verifier.ts';

/**
 * The CPU-bound work of the transforms: what the host hands a transform thread
 * (main/transforms/transform-threads.ts). Plain data both ways, since it crosses a
 * structured clone.
 */
export type TransformJob =
  | { kind: TransformKind; source: TransformSource }
  | { kind: 'verify'; bytes: string; source: string; ids: MessageIds; limits: VerifierLimits };

/** What a job answers: the transform's output object, or the verifier's verdict. */
export type TransformJobResult = Record<string, unknown> | VerifierResult;

export function runTransformJob(job: TransformJob): TransformJobResult {
  switch (job.kind) {
    case 'summarize':
      return summarize(job.source);
    case 'extract':
      return extract(job.source);
    case 'redact':
      return redact(job.source);
    case 'verify':
      return verifyOutput(job.bytes, job.source, job.ids, job.limits);
  }
}
