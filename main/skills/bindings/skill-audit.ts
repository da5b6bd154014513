import type { ChainAppendInput } from '../../chain/causal-chain.ts';
import {
  egressAttemptEntry,
  egressOutcomeEntry,
  egressRefusedEntry,
  envelopeEntry,
  type EgressSender,
} from '../../chain/egress-audit.ts';
import { CAPABILITY_RULE_ID } from './binding-capabilities.ts';
import type { SkillAuditEvent } from './skill-host-deps.ts';

/**
 * How a binding call appears on the causal chain, under the envelope of the operation call
 * it belongs to (session, run, step, the run's policy pack). Each request `http.fetch` sends
 * is an `egress.attempt` before it leaves and an `egress.outcome` after; a request the rules
 * stopped is an `egress.attempt` denied with its rule. Memory writes are `memory.write`,
 * refused reads `policy.decision`. `ccos.log` and `ccos.now` leave no entry (log lines go to
 * the redacted log), nor does the close of an `http.fetch` whose requests are on record:
 * those return undefined.
 */
export function skillAuditEntry(event: SkillAuditEvent): ChainAppendInput | undefined {
  const sender: EgressSender = {
    actor: `skill:${event.skill_id}`,
    capability_id: event.skill_id,
    capability_version: event.version,
  };
  const { envelope } = event.call;
  const base = {
    ...envelopeEntry(sender, envelope),
    data: {
      binding: event.binding,
      operation_id: event.call.operation_id,
      outcome: event.outcome,
      ...(event.code === undefined ? {} : { code: event.code }),
      ...event.data,
    },
  };
  // A binding the running operation did not declare (refused before any request was built):
  // the binding's usual entry, under the capability rule.
  if (event.code === 'CAPABILITY_DENIED') {
    const eventType =
      event.binding === 'http.fetch'
        ? 'egress.attempt'
        : event.binding === 'memory.put'
          ? 'memory.write'
          : 'policy.decision';
    return { ...base, event_type: eventType, rule_id: CAPABILITY_RULE_ID };
  }
  if (event.request !== undefined) {
    if (event.phase === 'outcome')
      return egressOutcomeEntry(
        sender,
        envelope,
        event.request,
        event.result ?? { code: 'INTERNAL', message: 'no result' },
      );
    if (event.outcome === 'denied') {
      const ruleId =
        typeof event.data.rule_id === 'string' ? event.data.rule_id : 'egress.allowlist';
      const message = typeof event.data.message === 'string' ? event.data.message : '';
      return egressRefusedEntry(sender, envelope, event.request, {
        rule_id: ruleId,
        code: event.code ?? 'SKILL_EGRESS_DENIED',
        message,
      });
    }
    return egressAttemptEntry(sender, envelope, event.request);
  }
  switch (event.binding) {
    case 'http.fetch':
      // Allowed: every request it sent is on record already. Otherwise nothing was sent.
      return event.outcome === 'allowed'
        ? undefined
        : {
            ...base,
            event_type: 'egress.attempt',
            rule_id: event.outcome === 'denied' ? 'egress.allowlist' : null,
          };
    case 'memory.put':
      return {
        ...base,
        event_type: 'memory.write',
        rule_id: event.outcome === 'denied' ? 'memory.namespace' : null,
      };
    case 'memory.get':
      return event.outcome === 'denied'
        ? { ...base, event_type: 'policy.decision', rule_id: 'memory.namespace' }
        : undefined;
    case 'log':
    case 'now':
      return undefined;
  }
}
