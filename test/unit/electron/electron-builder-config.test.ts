import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectPath } from '../../support/project-path.ts';

/**
 * `electron-builder.yml` checked against electron-builder's own configuration schema
 * (app-builder-lib/scheme.json, what `electron-builder` validates with), plus the settings
 * the desktop app's security depends on.
 */
describe('electron-builder.yml', () => {
  const config = parse(readFileSync(projectPath('electron-builder.yml'), 'utf8')) as Record<
    string,
    unknown
  >;

  it("is valid by electron-builder's schema", () => {
    const schema = JSON.parse(
      readFileSync(projectPath('node_modules', 'app-builder-lib', 'scheme.json'), 'utf8'),
    ) as object;
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    const ok = validate(config);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('a config the schema must refuse is refused (the check is real)', () => {
    const schema = JSON.parse(
      readFileSync(projectPath('node_modules', 'app-builder-lib', 'scheme.json'), 'utf8'),
    ) as object;
    const validate = new Ajv({ strict: false, allowUnionTypes: true }).compile(schema);
    expect(validate({ ...config, electronFuses: { runAsNode: 'no' } })).toBe(false);
    expect(validate({ ...config, notAnOption: true })).toBe(false);
  });

  it('hardens the fuses, ships every target and unpacks what the host needs', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
    });
    expect((config.linux as { target: string[] }).target).toEqual(['AppImage', 'deb']);
    expect((config.mac as { target: string[] }).target).toEqual(['dmg']);
    expect((config.win as { target: string[] }).target).toEqual(['nsis']);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['node_modules/isolated-vm/**']));
    expect(config.files).toEqual(expect.arrayContaining(['dist/renderer/**', 'dist/preload/**']));
  });
});
