import { useState, type SyntheticEvent, type ReactNode } from 'react';
import { z } from 'zod';
import { formFieldSchema, type Approval, type FormField } from '../../../contracts/approvals.ts';
import { InlineError } from '../ui/states.tsx';

const formSchema = z.array(formFieldSchema);

/** The value typed into a field, as the field's type, or a problem in words. */
function valueOf(
  field: FormField,
  text: string,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (text.trim() === '')
    return field.required ? { ok: false, problem: 'is required' } : { ok: true, value: undefined };
  switch (field.type) {
    case 'boolean':
      return { ok: true, value: text === 'true' };
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (!Number.isFinite(n)) return { ok: false, problem: 'must be a number' };
      if (field.type === 'integer' && !Number.isInteger(n))
        return { ok: false, problem: 'must be a whole number' };
      return { ok: true, value: n };
    }
    case 'string':
      return { ok: true, value: text };
  }
}

/**
 * A `missing_input` approval's form, built from the JSON Schema fields the host derived
 * (`request.form`): each field typed and checked before sending; the host checks again.
 */
export function MissingInputForm(props: {
  approval: Approval;
  pending: boolean;
  error: unknown;
  onSubmit: (answer: Record<string, unknown>) => void;
  onDeny: () => void;
}): ReactNode {
  const parsed = formSchema.safeParse(props.approval.request.form);
  const fields = parsed.success ? parsed.data : [];
  const [values, setValues] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    const answer: Record<string, unknown> = {};
    const found: Record<string, string> = {};
    for (const field of fields) {
      const v = valueOf(field, values[field.name] ?? '');
      if (!v.ok) found[field.name] = `${field.name} ${v.problem}`;
      else if (v.value !== undefined) answer[field.name] = v.value;
    }
    setProblems(found);
    if (Object.keys(found).length === 0) props.onSubmit(answer);
  };
  if (!parsed.success)
    return <p className="inline-error">This approval carries no form the UI can show.</p>;
  return (
    <form
      className="decision missing-input"
      onSubmit={submit}
      noValidate
      aria-label="Provide the missing input"
    >
      {fields.map((field) => {
        const id = `field-${props.approval.id}-${field.name}`;
        const problem = problems[field.name];
        const common = {
          id,
          name: field.name,
          'aria-invalid': problem !== undefined,
          'aria-describedby': problem === undefined ? undefined : `${id}-problem`,
          value: values[field.name] ?? '',
          onChange: (e: { target: { value: string } }) => {
            setValues({ ...values, [field.name]: e.target.value });
          },
        };
        return (
          <div key={field.name} className="field">
            <label htmlFor={id}>
              {field.name}
              {field.required ? ' (required)' : ''}
              {field.description === null ? null : (
                <span className="muted"> — {field.description}</span>
              )}
            </label>
            {field.enum !== null ? (
              <select {...common}>
                <option value="">choose…</option>
                {field.enum.map((choice) => (
                  <option key={String(choice)} value={String(choice)}>
                    {String(choice)}
                  </option>
                ))}
              </select>
            ) : field.type === 'boolean' ? (
              <select {...common}>
                <option value="">choose…</option>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : (
              <input {...common} inputMode={field.type === 'string' ? 'text' : 'decimal'} />
            )}
            {problem === undefined ? null : (
              <p id={`${id}-problem`} className="inline-error">
                {problem}
              </p>
            )}
          </div>
        );
      })}
      <div className="button-row">
        <button type="submit" className="approve" disabled={props.pending}>
          Submit and resume
        </button>
        <button type="button" className="deny" disabled={props.pending} onClick={props.onDeny}>
          Decline
        </button>
      </div>
      <InlineError error={props.error} />
    </form>
  );
}
