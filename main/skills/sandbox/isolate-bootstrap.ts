/**
 * Code that runs inside each isolate before the skill's own module. It defines the frozen
 * `ccos` global (the only way out) and returns `[dispatch, install]`.
 *
 * It captures intrinsics before skill code runs, so a skill that replaces `JSON.stringify`
 * only breaks itself, and removes `WebAssembly` and `Intl` (their memory escapes the heap
 * limit) and the engine's deferred callbacks. The host still treats every envelope this code produces as untrusted
 * data (a skill may have found a way to tamper with it), see isolated-vm-sandbox.ts.
 *
 * Closure arguments: $0 = Reference to the host binding function, $1 = max output chars,
 * $2 = the name under which dispatch tells the host that an operation returned.
 */
/** Not a binding: the name under which dispatch reports to the host that its operation returned. */
export const RETURNED_SIGNAL = '$returned';

export const ISOLATE_BOOTSTRAP = String.raw`
'use strict';
const hostRef = $0;
const maxOutput = $1;
const RETURNED = $2;
const stringify = JSON.stringify;
const parse = JSON.parse;
const hasOwn = Object.hasOwn;
const freeze = Object.freeze;
const keysOf = Object.keys;
const defineProperty = Object.defineProperty;
const ErrorCtor = Error;
const TypeErrorCtor = TypeError;
const StringCtor = String;
const sliceOf = (s, n) => (s.length > n ? s.substring(0, n) + '…' : s);

// WebAssembly.Memory is allocated outside the V8 heap, where isolated-vm's memoryLimit does not
// count it: a skill grew the host's RSS by ~1 GiB that way (issue 17 #25). Skills get no wasm.
delete globalThis.WebAssembly;
// The same holds for the ICU memory behind Intl objects (~25 KB per DateTimeFormat): 200,000
// kept in a 64 MB isolate grew the host by ~5 GB in a probe. toLocaleString and friends still
// format (their ICU objects are temporary); the Intl constructors are gone.
delete globalThis.Intl;
// Callbacks the engine runs later, outside any operation call (after a GC, after a delay):
// skill code runs only inside the call that started it (issue 17 #6).
delete globalThis.FinalizationRegistry;
delete Atomics.waitAsync;
if (typeof globalThis.WebAssembly !== 'undefined' || typeof globalThis.Intl !== 'undefined' || typeof globalThis.FinalizationRegistry !== 'undefined' || typeof Atomics.waitAsync !== 'undefined')
  throw new TypeErrorCtor('WebAssembly, Intl, FinalizationRegistry or Atomics.waitAsync could not be removed');

// The nonce of the call running now, set by dispatch for exactly as long as the operation runs.
// Every binding call carries it, so the host refuses a call made by code that outlived its
// operation (a dangling loop, a callback that fired late) instead of crediting it to another.
let currentNonce = null;

const callHost = async (name, args) => {
  const json = stringify(args === undefined ? null : args);
  if (typeof json !== 'string') throw new TypeErrorCtor('ccos ' + name + ': arguments must be JSON data');
  const reply = await hostRef.apply(undefined, [name, json, currentNonce], { arguments: { copy: true }, result: { promise: true, copy: true } });
  const envelope = parse(reply);
  if (envelope.ok) return envelope.value;
  const error = new ErrorCtor(envelope.error.message);
  error.code = envelope.error.code;
  throw error;
};

const ccos = freeze({
  http: freeze({ fetch: (request) => callHost('http.fetch', request) }),
  memory: freeze({
    get: (namespace, key) => callHost('memory.get', { namespace, key }),
    put: (namespace, key, value) => callHost('memory.put', { namespace, key, value }),
  }),
  log: (level, message) => callHost('log', { level, message }),
  now: () => callHost('now', null),
});
defineProperty(globalThis, 'ccos', { value: ccos, writable: false, configurable: false, enumerable: true });

const describe = (e) => {
  try {
    if (e !== null && typeof e === 'object' && typeof e.message === 'string') return sliceOf(e.message, 1000);
    return sliceOf(StringCtor(e), 1000);
  } catch {
    return 'unprintable thrown value';
  }
};
const claimedCode = (e) => {
  try {
    if (e !== null && typeof e === 'object' && typeof e.code === 'string') return sliceOf(e.code, 64);
  } catch {}
  return undefined;
};
const fail = (code, message, claimed) => stringify({ ok: false, error: { code, message, claimed } });

let ns;
const install = (namespace) => {
  ns = namespace;
  const kinds = {};
  for (const key of keysOf(namespace)) kinds[key] = typeof namespace[key];
  return stringify(kinds);
};
const dispatch = async (op, inputJson, nonce) => {
  let value;
  currentNonce = nonce;
  try {
    const fn = hasOwn(ns, op) ? ns[op] : undefined;
    if (typeof fn !== 'function') return fail('SKILL_ERROR', 'operation "' + op + '" is not exported');
    value = await fn(parse(inputJson));
  } catch (e) {
    return fail('SKILL_ERROR', describe(e), claimedCode(e));
  } finally {
    currentNonce = null;
    // Tells the host the operation returned, even if code it left behind now keeps this
    // isolate busy (the result itself is delivered only once the isolate is idle).
    hostRef.applyIgnored(undefined, [RETURNED, '', nonce], { arguments: { copy: true } });
  }
  let out;
  try {
    out = value === undefined ? 'null' : stringify(value);
  } catch (e) {
    return fail('SKILL_BAD_OUTPUT', 'the result is not JSON data: ' + describe(e));
  }
  if (typeof out !== 'string') return fail('SKILL_BAD_OUTPUT', 'the result is not JSON data (a function or a symbol)');
  if (out.length > maxOutput) return fail('SKILL_OUTPUT_TOO_LARGE', 'the result has ' + out.length + ' characters, over the limit of ' + maxOutput);
  return '{"ok":true,"value":' + out + '}';
};
return [dispatch, install];
`;
