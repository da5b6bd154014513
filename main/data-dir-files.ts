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
