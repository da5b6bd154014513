import { useState, type ReactNode, type SyntheticEvent } from 'react';
import type { AdapterConfigInput } from '../../../contracts/connector-adapter.ts';
import { InlineError } from '../ui/states.tsx';
import {
  connectorRequest,
  EMPTY_CONNECTOR_FORM,
  type ConnectorFormFields,
} from './connector-request.ts';

/** The fields of a connector's adapter, as `PUT /v1/connectors/{id}/adapter` takes them. */
export function ConnectorForm(props: {
  /** Ids already configured: adding one of them would silently replace its configuration. */
  existing: readonly string[];
  pending: boolean;
  error: unknown;
  onSubmit: (request: { id: string; body: AdapterConfigInput }) => void;
  onCancel: () => void;
}): ReactNode {
  const [fields, setFields] = useState<ConnectorFormFields>(EMPTY_CONNECTOR_FORM);
  const [problems, setProblems] = useState<string[]>([]);
  const set =
    (field: keyof ConnectorFormFields) =>
    (e: { target: { value: string } }): void => {
      setFields({ ...fields, [field]: e.target.value });
    };
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    const request = connectorRequest(fields);
    if (!request.ok) {
      setProblems(request.problems);
      return;
    }
    if (props.existing.includes(request.id)) {
      setProblems([
        `id: connector ${request.id} already exists; remove it first or pick another id`,
      ]);
      return;
    }
    setProblems([]);
    props.onSubmit(request);
  };
  return (
    <form className="card connector-form" onSubmit={submit} aria-label="New connector" noValidate>
      <h2>New connector</h2>
      <div className="form-row">
        <label>
          Id
          <input
            name="connector_id"
            required
            value={fields.id}
            onChange={set('id')}
            placeholder="hook"
          />
        </label>
        <label>
          Adapter
          <select name="adapter" value={fields.adapter} onChange={set('adapter')}>
            <option value="webhook">webhook</option>
            <option value="local_chat">local chat</option>
          </select>
        </label>
        {fields.adapter === 'webhook' ? (
          <label>
            Sender proof
            <select name="inbound_auth" value={fields.auth} onChange={set('auth')}>
              <option value="hmac">HMAC signature</option>
              <option value="bearer">bearer token</option>
            </select>
          </label>
        ) : null}
      </div>
      <label className="field">
        Goal of the run a message starts
        <input
          name="goal"
          required
          value={fields.goal}
          onChange={set('goal')}
          placeholder="Answer the message"
        />
      </label>
      <fieldset>
        <legend>
          Which group messages wake an agent (direct messages always do); comma-separated
        </legend>
        <div className="form-row">
          <label>
            Mention names
            <input
              name="mention_names"
              value={fields.mentionNames}
              onChange={set('mentionNames')}
            />
          </label>
          <label>
            Keywords
            <input name="keywords" value={fields.keywords} onChange={set('keywords')} />
          </label>
          <label>
            Allowed group senders
            <input
              name="group_senders"
              value={fields.groupSenders}
              onChange={set('groupSenders')}
            />
          </label>
        </div>
      </fieldset>
      <label className="field">
        Policy pack (empty: the connector&apos;s first allowed pack)
        <input name="policy_pack" value={fields.policyPack} onChange={set('policyPack')} />
      </label>
      {problems.length === 0 ? null : (
        <ul className="inline-error" role="alert" aria-label="Problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="button-row">
        <button type="submit" className="approve" disabled={props.pending}>
          Add the connector
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <InlineError error={props.error} />
    </form>
  );
}
