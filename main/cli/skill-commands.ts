import { text } from 'node:stream/consumers';
import type { Command } from 'commander';
import type { SkillListEntry } from '../../contracts/skills.ts';
import { AppError } from '../errors.ts';
import { secretGrants } from '../skills/manifest/secret-grants.ts';
import { connect, print, table, userPath } from './cli-context.ts';
import { describeSchema } from './describe-schema.ts';

/** `ccos skills …` and `ccos secrets …`. */
export function registerSkillCommands(program: Command): void {
  const skills = program
    .command('skills')
    .description('install and manage skills (sandboxed plugins)');
  skills
    .command('install')
    .description(
      'install or upgrade a skill from a folder, .tgz, skill.yaml / skill.md, or the URL of one; prints what it may reach',
    )
    .argument('<source>', 'skill folder (with skill.json), .tgz, .yaml/.yml/.md file, or https URL')
    .option('--force', 'compile a document that does not look like a skill (e.g. an HTML page)')
    .action(async (source: string, opts: { force?: boolean }, command: Command) => {
      const { client, json } = await connect(command);
      const force = opts.force === true ? { force: true } : {};
      // The host fetches URLs itself, under its own egress rules; paths are resolved here.
      const body = /^https?:\/\//i.test(source)
        ? { url: source, ...force }
        : { path: userPath(source), ...force };
      const result = await client.call('installSkill', { body });
      print(json, result, (r) =>
        [
          `installed ${r.skill.skill_id}@${r.skill.version}${r.replaced_version === null ? '' : ` (replaced ${r.replaced_version})`}`,
          describePermissions(r.skill),
          ...(r.autofill.length === 0
            ? []
            : [
                'may be handed, when the agent leaves them out:',
                ...r.autofill.map((f) => `  ${f.operation_id}.${f.field} from ${f.source}`),
              ]),
        ].join('\n'),
      );
    });
  skills
    .command('list')
    .description('list installed skills and their operations')
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const list = await client.call('listSkills');
      print(json, list, (l) =>
        table([
          ['SKILL', 'VERSION', 'STATUS', 'OPERATIONS'],
          ...l.skills.map((s) => [
            s.skill_id,
            s.version,
            s.status,
            s.operations.map((o) => o.id).join(', '),
          ]),
        ]),
      );
    });
  skills
    .command('show')
    .description('show a skill: operations, input schemas, permissions')
    .argument('<id>', 'skill id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const skill = await client.call('getSkill', { params: { id } });
      print(json, skill, (s) =>
        [
          `${s.skill_id}@${s.version} (${s.status}) — ${s.name}`,
          ...(s.load_error === undefined
            ? []
            : [
                `did not load: ${s.load_error.code}: ${s.load_error.message}`,
                `  retry: ccos skills enable ${s.skill_id}   remove: ccos skills unload ${s.skill_id}`,
              ]),
          s.description,
          ...s.operations.flatMap((o) => [
            `  ${o.id} [approval: ${o.approval}; ${o.capabilities.join(', ')}] ${o.description}`,
            ...describeSchema(o.input_schema).map((line) => `      ${line}`),
          ]),
          describePermissions(s),
        ].join('\n'),
      );
    });
  skills
    .command('setup')
    .description(
      "run a skill's onboarding (e.g. register, then approvals in `ccos approvals`); run again to retry",
    )
    .argument('<id>', 'skill id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('startSkillOnboarding', { params: { id } });
      print(json, result, (r) =>
        r.onboarding.state === 'READY'
          ? `${r.skill_id} has no setup steps: nothing to set up, its operations are ready`
          : `${r.skill_id}: ${r.onboarding.state} (step ${r.onboarding.step})${r.onboarding.waiting_for === undefined ? '' : ` — ${r.onboarding.waiting_for}`}`,
      );
    });
  for (const verb of ['enable', 'disable', 'unload'] as const) {
    skills
      .command(verb)
      .description(
        verb === 'enable'
          ? 'enable a skill (a skill whose load failed is loaded again)'
          : `${verb} a skill`,
      )
      .argument('<id>', 'skill id')
      .action(async (id: string, _opts: unknown, command: Command) => {
        const { client, json } = await connect(command);
        const route =
          verb === 'enable' ? 'enableSkill' : verb === 'disable' ? 'disableSkill' : 'unloadSkill';
        const result = await client.call(route, { params: { id } });
        print(json, result, () => `${id}: ${verb === 'unload' ? 'unloaded' : `${verb}d`}`);
      });
  }

  const secrets = program.command('secrets').description('store secrets skills reference by name');
  secrets
    .command('set')
    .description('store a secret, reading its value from stdin (so it stays out of shell history)')
    .argument('<name>', 'UPPER_SNAKE_CASE name, e.g. MOLTBOOK_API_KEY')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const value = (await text(process.stdin)).replace(/\r?\n$/, '');
      if (value === '') throw new AppError('INVALID_INPUT', 'pipe the secret value on stdin');
      const result = await client.call('putSecret', { params: { name }, body: { value } });
      print(json, result, (r) => `stored ${r.name}`);
    });
  secrets
    .command('list')
    .description('list secret names (never values)')
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const list = await client.call('listSecrets');
      print(json, list, (l) => (l.names.length === 0 ? '(none)' : l.names.join('\n')));
    });
  secrets
    .command('delete')
    .description('delete a secret')
    .argument('<name>', 'secret name')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('deleteSecret', { params: { name } });
      print(json, result, (r) => `deleted ${r.name}`);
    });
}

function describePermissions(skill: SkillListEntry): string {
  const p = skill.permissions;
  const egress = p.egress.map((e) => `${e.methods.join('/')} ${e.origin}`);
  return [
    'may reach:',
    `  network: ${egress.length === 0 ? 'nothing' : egress.join(', ')}`,
    `  secrets: ${
      p.secrets.length === 0
        ? 'none'
        : secretGrants(p)
            .map((s) => `${s.name} (to ${s.origins.join(', ')})`)
            .join(', ')
    }`,
    `  memory:  ${p.memory_namespaces.length === 0 ? 'none' : p.memory_namespaces.join(', ')}`,
  ].join('\n');
}
