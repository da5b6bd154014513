import type { SkillManifest } from '../../../../contracts/skills.ts';
import { manifest, operation } from '../../execute/helpers/skill-folder.ts';

/** A private chat message only the inbox skill returns: wherever else it shows up, it leaked. */
export const PRIVATE_MESSAGE = 'Alice: the spare key is under the blue flowerpot';

/** A code skill whose one operation returns the private message, labelled `pii.chat.message`. */
export const INBOX: SkillManifest = manifest('inbox', [
  operation('latest', { output_label: 'pii.chat.message' }),
]);
export const INBOX_CODE = `export async function latest() { return { message: ${JSON.stringify(PRIVATE_MESSAGE)} }; }\n`;
