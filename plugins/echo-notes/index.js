// Skill entry: an ES module with one exported async function per operation id and no
// imports. `ccos` is the only global beyond the JavaScript built-ins (docs/skills-sandbox.md).

export async function echo(input) {
  return { text: input.text };
}

export async function remember(input) {
  await ccos.memory.put('notes', input.key, { note: input.note, at: await ccos.now() });
  await ccos.log('info', `stored a note under ${input.key}`);
  return { stored: true };
}

export async function recall(input) {
  const item = await ccos.memory.get('notes', input.key);
  return item === null ? null : item.note;
}
