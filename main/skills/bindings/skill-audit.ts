import type { ChainAppendInput } from '../../chain/causal-chain.ts';
import { CAPABILITY_RULE_ID } from './binding-capabilities.ts';
import type { SkillAuditEvent } from './skill-host-deps.ts';

/**
 * How a binding call appears on the causal chain: egress as `egress.attempt`, memory
 * writes as `memory.write`, refused reads as `policy.decision`. `ccos.log` and `ccos.now`
 * leave no entry (log lines go to the redacted log). Returns undefined for those.
 */
export function skillAuditEntry(event: SkillAuditEvent): ChainAppendInput | undefined {
  const base = {
    actor: `skill:${event.skill_id}`,
    capability_id: event.skill_id,
    capability_version: event.version,
    data: {
      binding: event.binding,
      outcome: event.outcome,
      ...(event.code === undefined ? {} : { code: event.code }),
      ...event.data,
    },
  };
  // A binding the running operation did not declare: the same entry as other refusals of that
  // binding, under the capability rule.
  if (event.code === 'CAPABILITY_DENIED') {
    const eventType =
      event.binding === 'http.fetch'
        ? 'egress.attempt'
        : event.binding === 'memory.put'
          ? 'memory.write'
          : 'policy.decision';
    return { ...base, event_type: eventType, rule_id: CAPABILITY_RULE_ID };
  }
  switch (event.binding) {
    case 'http.fetch':
      return {
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
