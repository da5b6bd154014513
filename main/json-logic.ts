import jsonLogic from 'json-logic-js';

/**
 * Evaluates a JSON Logic rule (https://jsonlogic.com) over `data`: the one way the host
 * runs rules that arrive as data (completion predicates, onboarding `wait_for` conditions).
 * Rules are data, never code: an unknown operator throws, which the skill compiler uses to
 * refuse a bad `until`.
 */
export function applyJsonLogic(rule: unknown, data: unknown): unknown {
  return jsonLogic.apply(rule as jsonLogic.RulesLogic, data);
}
