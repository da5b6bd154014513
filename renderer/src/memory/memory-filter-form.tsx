import { useState, type ReactNode, type SyntheticEvent } from 'react';
import type { MemoryFilter } from './memory-filter.ts';

const FIELD_ID = 'memory-namespaces';

/**
 * The list's filters (run, session, namespace), applied on submit: ids are typed or pasted
 * whole, and a half-typed id would only flash an empty list.
 */
export function MemoryFilterForm(props: {
  filter: MemoryFilter;
  /** Namespaces seen in the list, offered as suggestions. */
  namespaces: readonly string[];
  onApply: (filter: MemoryFilter) => void;
}): ReactNode {
  const [runId, setRunId] = useState(props.filter.run_id ?? '');
  const [sessionId, setSessionId] = useState(props.filter.session_id ?? '');
  const [namespace, setNamespace] = useState(props.filter.namespace ?? '');
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    const filter: MemoryFilter = {};
    if (runId.trim() !== '') filter.run_id = runId.trim();
    if (sessionId.trim() !== '') filter.session_id = sessionId.trim();
    if (namespace.trim() !== '') filter.namespace = namespace.trim();
    props.onApply(filter);
  };
  const clear = (): void => {
    setRunId('');
    setSessionId('');
    setNamespace('');
    props.onApply({});
  };
  return (
    <form className="toolbar" role="search" aria-label="Filter memory" onSubmit={submit}>
      <label>
        Run
        <input
          name="run_id"
          placeholder="run id"
          value={runId}
          onChange={(e) => {
            setRunId(e.target.value);
          }}
        />
      </label>
      <label>
        Session
        <input
          name="session_id"
          placeholder="session id"
          value={sessionId}
          onChange={(e) => {
            setSessionId(e.target.value);
          }}
        />
      </label>
      <label>
        Namespace
        <input
          name="namespace"
          placeholder="namespace"
          list={FIELD_ID}
          value={namespace}
          onChange={(e) => {
            setNamespace(e.target.value);
          }}
        />
      </label>
      <datalist id={FIELD_ID}>
        {props.namespaces.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      <div className="button-row">
        <button type="submit">Filter</button>
        <button type="button" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}
