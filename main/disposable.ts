/** Anything that registers something hands back one of these (STYLE.md §4). */
export type Disposable = { dispose: () => void | Promise<void> };
