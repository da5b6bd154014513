import { createHash } from 'node:crypto';
import type { SkillManifest } from '../../../contracts/skills.ts';
import { canonicalJson } from '../../chain/canonical-json.ts';

/**
 * What a person consented to: SHA-256 over the manifest (canonical JSON) and the entry code.
 * The consent screen shows it with the permissions; an install that carries it installs
 * only a skill whose manifest and code hash to the same value.
 */
export function skillDigest(manifest: SkillManifest, code: string): string {
  return createHash('sha256')
    .update(canonicalJson(manifest))
    .update('\n')
    .update(code)
    .digest('hex');
}
