import type { z } from 'zod';
import {
  extractOutputSchema,
  redactOutputSchema,
  summarizeOutputSchema,
  type TransformKind,
} from '../../contracts/transforms.ts';
import { label, type Label } from '../policy/labels.ts';
import { extract, redact, summarize, type TransformSource } from './deterministic-transforms.ts';

/**
 * What a transform capability declares (CHAT-SECURITY-CONTRACT.md): its identity, the
 * labels it accepts, its output label and schema. The quarantine hands a blob only to a
 * capability whose input label covers the blob's; every output is checked against the schema.
 */
export type TransformCapability = {
  id: string;
  version: string;
  input_label: Label;
  output_label: Label;
  schema: z.ZodType<Record<string, unknown>>;
  run: (source: TransformSource) => Record<string, unknown>;
};

/** Raw inbound content of any kind; never `secret.token` (that lives in the secret store). */
const RAW_INPUT = label(['pii.chat.message', 'pii.chat.metadata', 'pii.attachment']);
export const TRANSFORM_OUTPUT_LABEL = label('pii.redacted');

export const TRANSFORMS: Readonly<Record<TransformKind, TransformCapability>> = {
  summarize: {
    id: 'ccos.transform.summarize',
    version: '1',
    input_label: RAW_INPUT,
    output_label: TRANSFORM_OUTPUT_LABEL,
    schema: summarizeOutputSchema,
    run: summarize,
  },
  extract: {
    id: 'ccos.transform.extract',
    version: '1',
    input_label: RAW_INPUT,
    output_label: TRANSFORM_OUTPUT_LABEL,
    schema: extractOutputSchema,
    run: extract,
  },
  redact: {
    id: 'ccos.transform.redact',
    version: '1',
    input_label: RAW_INPUT,
    output_label: TRANSFORM_OUTPUT_LABEL,
    schema: redactOutputSchema,
    run: redact,
  },
};

/** The redaction verifier: it reads the source too, to look for quotes of it. */
export const VERIFIER_CAPABILITY = {
  id: 'ccos.transform.verify',
  version: '1',
  input_label: RAW_INPUT,
} as const;
