import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { JsonSchemaObject } from '../../../contracts/skills.ts';
import type { Disposable } from '../../../main/disposable.ts';
import { ExecutePipeline } from '../../../main/execute/execute-pipeline.ts';
import { isAppError } from '../../../main/errors.ts';
import { PolicyPacks } from '../../../main/policy/policy-packs.ts';
import { Redactor } from '../../../main/policy/redactor.ts';
import { IsolatedVmSandbox } from '../../../main/skills/sandbox/isolated-vm-sandbox.ts';
import { SkillRegistry } from '../../../main/skills/registry/skill-registry.ts';
import type { SkillSandbox } from '../../../main/skills/sandbox/skill-sandbox.ts';
import { openTestServices, type TestServices } from '../../support/test-store.ts';
import { CAPABILITIES, MapSkillMemory } from '../skills/skill-test-kit.ts';
import { AGENT } from './helpers/execute-host.ts';
import { manifest, operation, writeSkillFolder } from './helpers/skill-folder.ts';

const RUNS = 200;

/** Every input that crossed into an isolate, as it crossed. */
type SandboxCall = { operationId: string; input: unknown };

/** The real isolated-vm sandbox behind a spy: the boundary the property is about. */
function spySandbox(calls: SandboxCall[]): SkillSandbox {
  const inner = new IsolatedVmSandbox({ limits: { callTimeoutMs: 2_000, memoryLimitMb: 16 } });
  return {
    load: async (code, bindings) => {
      const skill = await inner.load(code, bindings);
      return {
        call: (operationId, input) => {
          calls.push({ operationId, input: structuredClone(input) });
          return skill.call(operationId, input);
        },
        dispose: () => {
          skill.dispose();
        },
        get disposed() {
          return skill.disposed;
        },
      };
    },
  };
}

// An Ajv of the test's own, so the oracle is not the code under test.
const addFormats = addFormatsModule.default;
const oracle = new Ajv2020({ strict: false, allErrors: true });
addFormats(oracle);
const isValid = (schema: JsonSchemaObject, value: unknown): boolean =>
  oracle.compile(structuredClone(schema))(value);

const FORMATS = {
  email: fc.emailAddress(),
  date: fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  'date-time': fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  uuid: fc.uuid(),
  uri: fc.webUrl(),
  ipv4: fc.ipV4(),
} as const;
type Format = keyof typeof FORMATS;

/** A property schema and a generator of values that often (not always) fit it. */
type Property = { schema: Record<string, unknown>; value: fc.Arbitrary<unknown> };

const anyJson = fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' });
/** Present one time in `1 / (1 + absentWeight)`. */
const sometimes = <T>(arb: fc.Arbitrary<T>, absentWeight = 1) =>
  fc.oneof(
    { weight: absentWeight, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: arb },
  );
/** An ordered pair of bounds, so most schemas can be satisfied (some still cannot). */
const bounds = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([x, y]) => ({
    lo: Math.min(x, y),
    hi: Math.max(x, y),
  }));

const stringProperty: fc.Arbitrary<Property> = fc.oneof(
  fc.constantFrom(...(Object.keys(FORMATS) as Format[])).map((format) => ({
    schema: { type: 'string', format },
    value: fc.oneof({ weight: 4, arbitrary: FORMATS[format] }, fc.string({ maxLength: 12 })),
  })),
  fc
    .record({ min: sometimes(fc.nat(3)), max: sometimes(fc.integer({ min: 3, max: 20 })) })
    .map(({ min, max }) => ({
      schema: {
        type: 'string',
        ...(min === undefined ? {} : { minLength: min }),
        ...(max === undefined ? {} : { maxLength: max }),
      },
      value: fc.string({ maxLength: (max ?? 20) + 3 }),
    })),
);

const numberProperty: fc.Arbitrary<Property> = fc
  .record({
    type: fc.constantFrom('integer', 'number'),
    range: bounds(-100, 100),
    exclusive: fc.boolean(),
  })
  .map(({ type, range: { lo, hi }, exclusive }) => ({
    schema: { type, minimum: lo, ...(exclusive ? { exclusiveMaximum: hi + 1 } : { maximum: hi }) },
    value:
      type === 'integer'
        ? fc.integer({ min: lo - 5, max: hi + 5 })
        : fc.double({ min: lo - 5, max: hi + 5, noNaN: true }),
  }));

const enumProperty: fc.Arbitrary<Property> = fc
  .uniqueArray(
    fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -5, max: 5 }), fc.boolean()),
    { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) },
  )
  .map((choices) => ({
    schema: { enum: choices },
    value: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...choices) },
      fc.string({ maxLength: 6 }),
    ),
  }));

const scalarProperty = fc.oneof(
  stringProperty,
  numberProperty,
  enumProperty,
  fc.constant<Property>({ schema: { type: 'boolean' }, value: fc.boolean() }),
);

const arrayProperty: fc.Arbitrary<Property> = fc
  .record({ items: scalarProperty, maxItems: sometimes(fc.nat(4)) })
  .map(({ items, maxItems }) => ({
    schema: { type: 'array', items: items.schema, ...(maxItems === undefined ? {} : { maxItems }) },
    value: fc.array(items.value, { maxLength: (maxItems ?? 4) + 1 }),
  }));

/** Where a field may be filled from: allowlisted sources and ones the policy ignores. */
const AUTOFILL = ['run.goal', 'run.id', 'memory:profile.value', 'memory:other.value'] as const;

const property: fc.Arbitrary<Property> = fc
  .record({
    base: fc.oneof(
      { weight: 4, arbitrary: scalarProperty },
      { weight: 1, arbitrary: arrayProperty },
    ),
    autofill: sometimes(fc.constantFrom(...AUTOFILL), 3),
    description: sometimes(fc.string({ maxLength: 20 })),
  })
  .map(({ base, autofill, description }) => ({
    schema: {
      ...base.schema,
      ...(description === undefined ? {} : { description }),
      ...(autofill === undefined ? {} : { 'x-ccos-autofill': autofill }),
    },
    value: base.value,
  }));

/** An operation's input_schema, and agent params that may or may not fit it. */
type Case = {
  schema: JsonSchemaObject;
  params: Record<string, unknown>;
  goal: string;
  memoryValue: unknown;
  /** A value for every field; the person answers the ones the form asks for. */
  answer: Record<string, unknown>;
};

const fieldName = fc.constantFrom('a', 'b', 'c', 'd', 'email', 'count', 'tags', 'when');

const caseArb: fc.Arbitrary<Case> = fc
  .dictionary(fieldName, property, { minKeys: 1, maxKeys: 5 })
  .chain((props) => {
    const entries = Object.entries(props);
    const names = entries.map(([n]) => n);
    // Typed values most of the time, anything JSON sometimes, each field maybe left out.
    const fieldValues = Object.fromEntries(
      entries.map(([n, p]) => [n, fc.oneof({ weight: 8, arbitrary: p.value }, anyJson)]),
    );
    const values = fc.record(fieldValues, { requiredKeys: [] });
    return fc.record({
      schema: fc
        .record({
          required: fc.subarray(names),
          additionalProperties: sometimes(fc.boolean()),
        })
        .map(({ required, additionalProperties }) => ({
          type: 'object',
          properties: Object.fromEntries(entries.map(([n, p]) => [n, p.schema])),
          required,
          ...(additionalProperties === undefined ? {} : { additionalProperties }),
        })),
      params: fc
        .tuple(values, sometimes(fc.record({ extra: anyJson }), 5))
        .map(([given, extra]) => ({ ...extra, ...given })),
      goal: fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String)),
      memoryValue: anyJson,
      answer: fc.record(fieldValues),
    });
  });

function statusOf(outcome: ToolCallOutcome): string {
  return outcome.status === 'error' ? `error:${outcome.code}` : outcome.status;
}

/** Issue 5 acceptance: no params that fail validation ever reach the isolate. */
describe('validation property: the sandbox only ever sees params valid for the input_schema', () => {
  let services: TestServices;
  let registry: SkillRegistry;
  let pipeline: ExecutePipeline;
  let validation: Disposable;
  const calls: SandboxCall[] = [];
  let memoryValue: unknown = null;

  beforeAll(async () => {
    services = await openTestServices();
    const started = services.host.started;
    registry = new SkillRegistry({
      sandbox: spySandbox(calls),
      policy: { capabilities: CAPABILITIES, allowLoopbackHttp: false },
      host: {
        memory: new MapSkillMemory(),
        secrets: () => Promise.resolve(undefined),
        log: () => undefined,
        audit: () => undefined,
      },
    });
    pipeline = new ExecutePipeline({
      registry,
      approvals: started.approvals,
      chain: started.chain,
      redactor: new Redactor(),
      policies: new PolicyPacks(),
      clock: { now: () => new Date() },
      logger: pino({ level: 'silent' }),
      readMemory: () => Promise.resolve(memoryValue),
      payloads: started.payloads,
    });
    // Answers to this pipeline's forms are checked against this registry's skills.
    validation = pipeline.registerAnswerValidation();
  });
  afterAll(async () => {
    await validation.dispose();
    registry.dispose();
    await services.close();
  });

  it(`holds for ${RUNS} random schemas, params, fills and answers`, async () => {
    const seen = new Map<string, number>();
    let step = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const folder = await writeSkillFolder(
          manifest('prop', [operation('run', { input_schema: c.schema })]),
          'export async function run(input) { return { got: input }; }',
        );
        try {
          await registry.install(folder.dir);
        } finally {
          await folder.cleanup();
        }
        memoryValue = c.memoryValue;
        const runs = services.runs;
        const created = await runs.create({ goal: c.goal || 'g' }, { actor: 'admin' });
        let run = await runs.transition(created.id, 'running', { ...AGENT, reason: 'segment' });
        const before = calls.length;
        const execute = () =>
          pipeline.execute({
            run,
            step_id: `s${++step}`,
            segment: 0,
            tool: 'prop__run',
            params: c.params,
            ctx: AGENT,
          });

        let outcome = await execute();
        if (outcome.status === 'paused') {
          const asked = outcome.missing_fields ?? [];
          const answer = Object.fromEntries(
            Object.entries(c.answer).filter(([k]) => asked.includes(k)),
          );
          const answered = await services.host.started.approvals
            .decide(outcome.approval_id, { decision: 'approve', answer }, AGENT)
            .then(
              () => true,
              (e: unknown) => {
                if (isAppError(e, 'INVALID_INPUT')) return false;
                throw e;
              },
            );
          if (answered) {
            seen.set('answered', (seen.get('answered') ?? 0) + 1);
            run = await runs.transition(run.id, 'running', { ...AGENT, reason: 'segment' });
            outcome = await execute();
          }
        }
        seen.set(statusOf(outcome), (seen.get(statusOf(outcome)) ?? 0) + 1);

        const reached = calls.slice(before);
        for (const call of reached) expect(isValid(c.schema, call.input)).toBe(true);
        // Only a call that ran reached the isolate, and it ran once with what it returned.
        if (outcome.status === 'ok') {
          expect(reached).toHaveLength(1);
          // Compared as JSON, which is how values cross into the isolate (-0 comes back as 0).
          expect(JSON.stringify(outcome.output)).toBe(JSON.stringify({ got: reached[0]?.input }));
        } else {
          expect(reached).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: plenty of calls ran, and plenty were stopped on the way.
    expect(seen.get('ok') ?? 0).toBeGreaterThan(RUNS / 10);
    expect(seen.get('error:INVALID_INPUT') ?? 0).toBeGreaterThan(RUNS / 10);
    expect(seen.get('answered') ?? 0).toBeGreaterThan(0);
  }, 180_000);

  it('a param that JSON cannot carry faithfully (a lone surrogate) is INVALID_INPUT, not a crash', async () => {
    const folder = await writeSkillFolder(
      manifest('prop', [operation('run')]),
      'export async function run(input) { return { got: input }; }',
    );
    await registry.install(folder.dir);
    await folder.cleanup();
    const created = await services.runs.create({ goal: 'g' }, { actor: 'admin' });
    const run = await services.runs.transition(created.id, 'running', { ...AGENT, reason: 's' });
    const before = calls.length;
    const outcome = await pipeline.execute({
      run,
      step_id: 'lone',
      segment: 0,
      tool: 'prop__run',
      params: { text: 'a\ud800b' },
      ctx: AGENT,
    });
    expect(outcome).toMatchObject({ status: 'error', code: 'INVALID_INPUT' });
    expect(calls.length).toBe(before);
  });
});
