/** Time and identity sources, injected so tests can pin them. */
export type Clock = {
  /** Wall-clock time. */
  now: () => Date;
};

export const systemClock = (): Clock => ({ now: () => new Date() });

/** A fresh random id with a readable prefix, e.g. `run_3f2a…`. */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;
}
