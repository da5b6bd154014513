import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { MAIN_LAYERS } from '../../../main/layers.ts';
import { projectPath } from '../../support/project-path.ts';

/*
 * The layering of main/ (docs/architecture.md): every file belongs to a layer, no import
 * points to a later layer, the folder graph has no cycle, and lint refuses an upward import
 * in every layer — checked by linting a probe file with the project's own ESLint config.
 */

const ROOT = projectPath('.');

function mainFiles(dir = path.join(ROOT, 'main')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return mainFiles(full);
    return e.name.endsWith('.ts') ? [path.relative(ROOT, full)] : [];
  });
}

/** The layer index of a repository-relative path, or -1 when no layer covers it. */
function layerOf(file: string): number {
  return MAIN_LAYERS.findIndex((layer) =>
    layer.some((entry) => file === entry || file.startsWith(`${entry}/`)),
  );
}

/** Relative imports of a file, resolved to repository-relative paths. */
function importsOf(file: string): string[] {
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  return [...source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)]
    .map((m) => path.normalize(path.join(path.dirname(file), m[1] ?? '')))
    .filter((target) => target.startsWith('main/'));
}

/** The files that move a run through its state machine: main/skills imports none of them. */
const STATE_MACHINE = [
  'main/runs/run-service.ts',
  'main/runs/run-transition.ts',
  'main/runs/transitions.ts',
];

/** A folder, or a file directly in main/ (those are primitives or shells, each its own unit). */
function unitOf(file: string): string {
  return path.dirname(file) === 'main' ? file : path.dirname(file);
}

describe('layering of main/', () => {
  const files = mainFiles();

  it('classifies every file of main/ in exactly one layer', () => {
    expect(files.filter((f) => layerOf(f) === -1)).toEqual([]);
    const entries = MAIN_LAYERS.flat();
    expect(new Set(entries).size).toBe(entries.length);
  });

  it('has no import from a later layer', () => {
    const upward = files.flatMap((f) =>
      importsOf(f)
        .filter((t) => layerOf(t) > layerOf(f))
        .map((t) => `${f} -> ${t}`),
    );
    expect(upward).toEqual([]);
  });

  it('leaves the run state machine to the runs layer: no skill imports it', () => {
    const driving = files
      .filter((f) => f.startsWith('main/skills/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((t) => STATE_MACHINE.includes(t))
          .map((t) => `${f} -> ${t}`),
      );
    expect(driving).toEqual([]);
  });

  it('has no cycle in the folder graph', () => {
    const edges = new Map<string, Set<string>>();
    for (const f of files) {
      for (const t of importsOf(f)) {
        if (unitOf(t) === unitOf(f)) continue;
        const out = edges.get(unitOf(f)) ?? new Set<string>();
        out.add(unitOf(t));
        edges.set(unitOf(f), out);
      }
    }
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (unit: string, trail: string[]): void => {
      state.set(unit, 'open');
      for (const next of edges.get(unit) ?? []) {
        if (state.get(next) === 'open')
          cycles.push([...trail.slice(trail.indexOf(next)), unit, next].join(' -> '));
        else if (state.get(next) === undefined) visit(next, [...trail, unit]);
      }
      state.set(unit, 'done');
    };
    for (const unit of edges.keys()) if (state.get(unit) === undefined) visit(unit, []);
    expect(cycles).toEqual([]);
  });

  describe('lint refuses an upward import in every layer', () => {
    // The real config, with type information off: the probes' text is not what is on disk.
    const eslint = new ESLint({
      cwd: ROOT,
      overrideConfig: [
        {
          files: ['**/*.ts'],
          ...tseslint.configs.disableTypeChecked,
          languageOptions: { parserOptions: { projectService: false, project: null } },
        },
      ],
    });
    // A layer that is a file is probed as that file; a folder by a new file in it.
    const probeFile = (entry: string): string =>
      entry.endsWith('.ts') ? entry : path.join(entry, 'layer-probe.ts');
    // A real file of the next layer up, so the import resolves.
    const fileIn = (entry: string): string =>
      entry.endsWith('.ts') ? entry : (files.find((f) => f.startsWith(`${entry}/`)) ?? entry);

    it.each(MAIN_LAYERS.slice(0, -1).map((layer, i) => [layer[0] ?? '', i] as const))(
      'in %s',
      async (entry, i) => {
        const above = MAIN_LAYERS[i + 1]?.[0] ?? '';
        const probe = probeFile(entry);
        let spec = path.relative(path.dirname(probe), fileIn(above));
        if (!spec.startsWith('.')) spec = `./${spec}`;
        const [result] = await eslint.lintText(`import '${spec}';\n`, { filePath: probe });
        const rules = result?.messages.map((m) => m.ruleId) ?? [];
        expect(rules).toContain('import-x/no-restricted-paths');
      },
    );

    it('in main/skills importing the run state machine', async () => {
      for (const target of STATE_MACHINE.map((f) => path.basename(f))) {
        const [result] = await eslint.lintText(`import '../../runs/${target}';\n`, {
          filePath: 'main/skills/onboarding/layer-probe.ts',
        });
        expect(result?.messages.map((m) => m.message).join('\n')).toContain(
          'main/skills never drives the run state machine',
        );
      }
    });

    it('in an unclassified folder', async () => {
      const [result] = await eslint.lintText('export const x = 1;\n', {
        filePath: 'main/unlisted/layer-probe.ts',
      });
      expect(result?.messages.map((m) => m.message).join('\n')).toContain(
        'Unclassified file or folder in main/',
      );
    });
  });
});
