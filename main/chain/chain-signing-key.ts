import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CHAIN_HEAD_FORMAT, type SignedHead } from '../../contracts/chain.ts';
import { AppError } from '../errors.ts';
import { writeFileAtomically } from '../write-file-atomically.ts';
import { canonicalJson } from './canonical-json.ts';

/** The host's chain-signing key (ed25519), kept in a file outside the database. */
export type ChainSigningKey = {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
};

/**
 * Loads the signing key from `file`, creating it (0600) at first use. A missing key while
 * signed heads exist is refused: a new key would silently disown every head signed so far.
 */
export async function openChainSigningKey(
  file: string,
  options: { headsExist: boolean },
): Promise<ChainSigningKey> {
  const pem = await readFile(file, 'utf8').catch(() => undefined);
  if (pem === undefined) {
    if (options.headsExist) {
      throw new AppError(
        'INTERNAL',
        `the chain signing key ${file} is missing but signed chain heads exist: restore the file, or move the heads file away to start over with a new key (the old heads then verify only with the old public key)`,
      );
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFileAtomically(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    return keyOf(privateKey);
  }
  try {
    return keyOf(createPrivateKey(pem));
  } catch {
    throw new AppError('INTERNAL', `the chain signing key ${file} is damaged`);
  }
}

function keyOf(privateKey: KeyObject): ChainSigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new AppError('INTERNAL', 'the chain signing key is not an ed25519 key');
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** The public key as it travels in an export: base64 of its SPKI DER. */
export function publicKeyText(publicKey: KeyObject): string {
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

/** Reads a public key given as base64 SPKI DER or as PEM; throws INVALID_INPUT otherwise. */
export function parsePublicKey(text: string): KeyObject {
  try {
    const trimmed = text.trim();
    const key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return key;
  } catch {
    throw new AppError('INVALID_INPUT', 'not an ed25519 public key (PEM, or base64 SPKI DER)');
  }
}

/** First 16 hex digits of the SHA-256 of the raw 32-byte public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

function message(head: Omit<SignedHead, 'signature'>): Buffer {
  return Buffer.from(
    canonicalJson({
      format: CHAIN_HEAD_FORMAT,
      seq: head.seq,
      hash: head.hash,
      signed_at: head.signed_at,
      key_id: head.key_id,
    }),
  );
}

/** Signs the chain head (seq, hash) at `signedAt`. */
export function signHead(
  key: ChainSigningKey,
  head: { seq: number; hash: string },
  signedAt: string,
): SignedHead {
  const unsigned = { seq: head.seq, hash: head.hash, signed_at: signedAt, key_id: key.keyId };
  return {
    ...unsigned,
    signature: sign(null, message(unsigned), key.privateKey).toString('base64'),
  };
}

/** Whether `head` was signed by `publicKey` (and names that key). */
export function headSignatureValid(publicKey: KeyObject, head: SignedHead): boolean {
  if (head.key_id !== keyIdOf(publicKey)) return false;
  try {
    return verify(null, message(head), publicKey, Buffer.from(head.signature, 'base64'));
  } catch {
    return false;
  }
}
