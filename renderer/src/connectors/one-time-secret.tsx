import { useState, type ReactNode } from 'react';

/**
 * The secret a new webhook connector's sender must use, shown this once: the host keeps it in
 * its secret store and no API returns it again. It lives only in this component's props, so
 * dismissing it (or leaving the page) drops it from the page for good.
 */
export function OneTimeSecret(props: {
  connectorId: string;
  secret: string;
  mode: 'hmac' | 'bearer';
  onDismiss: () => void;
}): ReactNode {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = (): void => {
    navigator.clipboard.writeText(props.secret).then(
      () => {
        setCopied('yes');
      },
      () => {
        setCopied('failed');
      },
    );
  };
  const inbound = `${window.location.origin}/v1/connectors/${encodeURIComponent(props.connectorId)}/inbound`;
  return (
    <section className="card one-time-secret" aria-labelledby={`secret-of-${props.connectorId}`}>
      <h2 id={`secret-of-${props.connectorId}`}>Secret of {props.connectorId}</h2>
      <p>
        <strong>It will not be shown again.</strong> Copy it now and give it to the sender; if it is
        lost, add the connector again with a new secret.
      </p>
      <p>
        <code className="secret-value" data-testid="one-time-secret">
          {props.secret}
        </code>
      </p>
      <p className="muted">
        {props.mode === 'hmac'
          ? 'The sender signs each request: header x-ccos-timestamp (unix ms) and x-ccos-signature: sha256=<HMAC-SHA256 of "<timestamp>.<body>"> with this secret, '
          : 'The sender sends Authorization: Bearer <this secret>, '}
        posting to <code>{inbound}</code>.
      </p>
      <div className="button-row">
        <button type="button" onClick={copy}>
          Copy the secret
        </button>
        <button type="button" onClick={props.onDismiss}>
          I have stored it
        </button>
      </div>
      <p role="status">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'failed'
            ? 'Could not copy: select the secret and copy it by hand.'
            : ''}
      </p>
    </section>
  );
}
