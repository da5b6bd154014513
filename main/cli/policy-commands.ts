import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { PolicyPack, PolicyPackSummary } from '../../contracts/policy.ts';
import { CONSTITUTION } from '../policy/constitution.ts';
import { readPackFile, packFilesInvalid } from '../policy/pack-files.ts';
import { stampedVersionOf } from '../policy/pack-version.ts';
import { connect, print, table, userPath } from './cli-context.ts';

/** `ccos policies list|show|check`: the packs runs are held to, and a file checked offline. */
export function registerPolicyCommands(program: Command): void {
  const policies = program
    .command('policies')
    .description('policy packs: the rules runs are held to (docs/policy-packs.md)');

  policies
    .command('list')
    .description('the packs the host knows, their stamped versions and where they came from')
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      print(json, await client.call('listPolicyPacks'), (r) => renderList(r.packs));
    });

  policies
    .command('show')
    .description('one pack as its author wrote it, defaults filled in (YAML; --json for JSON)')
    .argument('<id>', 'pack id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const detail = await client.call('getPolicyPack', { params: { id } });
      print(
        json,
        detail,
        (d) =>
          `# ${d.summary.id} ${d.summary.version} (${sourceOf(d.summary)})\n${ruleIdLines(d.pack)}${stringify(d.pack)}`,
      );
    });

  policies
    .command('check')
    .description('validate a pack file without a host; every problem as file:line:col (exit 1)')
    .argument('<file>', 'a .yaml, .yml or .json pack file')
    .action(async (file: string, _opts: unknown, command: Command) => {
      const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
      const read = await readPackFile(userPath(file));
      if (read.pack === undefined) throw packFilesInvalid(read.problems);
      const result = { file, id: read.pack.id, version: stampedVersionOf(read.pack) };
      print(json, result, (r) => `${r.file}: ok, pack "${r.id}" version ${r.version}`);
    });
}

function sourceOf(p: PolicyPackSummary): string {
  switch (p.source.kind) {
    case 'file':
      return p.source.path;
    case 'pinned':
      return 'kept for the runs created under it';
    case 'builtin':
      return 'built in';
    case 'settings':
      return 'host settings';
  }
}

/**
 * The rule ids a `policy.decision` entry of this pack can name, in the order they are applied
 * (docs/policy-packs.md), as YAML comments above the pack: a person reading an audit entry
 * finds its rule here.
 */
function ruleIdLines(pack: PolicyPack): string {
  const ids = (rules: readonly { rule_id: string }[] | undefined): string =>
    rules === undefined || rules.length === 0 ? '(none)' : rules.map((r) => r.rule_id).join(', ');
  const rules = pack.rules ?? [];
  return [
    `# constitution (always first; no pack relaxes it): ${ids(Object.values(CONSTITUTION))}`,
    `# deny rules: ${ids(rules.filter((r) => r.effect === 'deny'))}`,
    `# allow rules: ${ids(rules.filter((r) => r.effect === 'allow'))}`,
    `# when no rule matches: rules.default_${pack.rules_default ?? 'allow'}`,
    `# label rules: ${pack.label_rules === undefined ? '(the contract’s)' : ids(pack.label_rules)}; otherwise label.default_deny`,
    `# egress exceptions (each needs an approval): ${ids(pack.egress_exceptions)}`,
    `# activation rules: ${ids(pack.activation_rules)}; otherwise activation.default_deny`,
    '',
  ].join('\n');
}

function renderList(packs: readonly PolicyPackSummary[]): string {
  return table([
    ['ID', 'VERSION', 'SOURCE', 'DESCRIPTION'],
    ...packs.map((p) => [p.id, p.version, sourceOf(p), p.description ?? '']),
  ]);
}
