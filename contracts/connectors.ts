import { z } from 'zod';
import { budgetCapsSchema } from './runs.ts';
import { connectorIdSchema } from './tokens.ts';

const policyPackIdSchema = z.string().min(1).max(100);

/**
 * What a connector (and every token minted for it) may ask for when it creates runs: which
 * policy packs, and at most which budget (issue 17 #13). A connector with no record may use
 * only the `default` pack within its default budget. The connectors issue extends it.
 */
export const connectorRecordSchema = z.strictObject({
  id: connectorIdSchema,
  /** Packs its runs may name; the first is used when a request names none. */
  allowed_packs: z.array(policyPackIdSchema).min(1).max(20),
  budget_caps: budgetCapsSchema,
  created_at: z.string(),
  updated_at: z.string(),
});
export type ConnectorRecord = z.infer<typeof connectorRecordSchema>;

/** `PUT /v1/connectors/{id}`: the record's limits, replacing any before. */
export const putConnectorInputSchema = z.strictObject({
  allowed_packs: connectorRecordSchema.shape.allowed_packs,
  budget_caps: budgetCapsSchema.optional(),
});
export type PutConnectorInput = z.infer<typeof putConnectorInputSchema>;
