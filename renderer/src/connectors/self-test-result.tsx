import type { ReactNode } from 'react';
import type { CallOutput } from '../../../contracts/api-call.ts';
import { healthText } from './connector-facts.ts';

/** What a self-test found: each check (proof, a forged one refused, parse, activation). */
export function SelfTestResult(props: { result: CallOutput<'testConnectorAdapter'> }): ReactNode {
  const passed = props.result.checks.every((c) => c.ok);
  return (
    <div className="self-test" role="status" data-testid="self-test">
      <p>
        <strong className={passed ? 'ok' : 'unsafe'}>
          {passed ? 'Self-test passed' : 'Self-test failed'}
        </strong>{' '}
        — {healthText(props.result.health).text} Nothing was stored.
      </p>
      <ul>
        {props.result.checks.map((c) => (
          <li key={c.check}>
            <span className={c.ok ? 'ok' : 'unsafe'}>{c.ok ? 'passed' : 'failed'}</span> {c.check}
            {c.detail === null ? null : `: ${c.detail}`}
          </li>
        ))}
      </ul>
    </div>
  );
}
