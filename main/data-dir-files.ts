/*
 * Files a host keeps in its data directory, by name. Apart from the host so the CLI can find
 * a running host (its URL and admin token) without loading the host's code.
 */

export const ADMIN_TOKEN_FILE = 'admin.token';
/** Where a running host says where it listens, for the CLI to find it. */
export const GATEWAY_INFO_FILE = 'gateway.json';
/** Key of the secret store: owner-only, beside (never inside) the database. */
export const SECRET_KEY_FILE = 'secret.key';
/** Copies of installed skill packages. */
export const SKILLS_DIR = 'skills';
/** The ed25519 key that signs chain heads: owner-only, outside the database it vouches for. */
export const CHAIN_KEY_FILE = 'chain-signing.key';
/** Signed chain heads, one JSON line each, appended periodically, on stop and on export. */
export const CHAIN_HEADS_FILE = 'chain-heads.jsonl';
/** The public half of the chain-signing key (PEM): copy it elsewhere to pin it when verifying. */
export const CHAIN_PUBLIC_KEY_FILE = 'chain-signing.pub';
/** Key of quarantined raw content (AES-256-GCM): owner-only, beside (never inside) the database. */
export const QUARANTINE_KEY_FILE = 'quarantine.key';
