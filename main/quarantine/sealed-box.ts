import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
/** Length prefix of the padded plaintext. */
const LENGTH_BYTES = 4;
/** The smallest padded size: short messages all look alike. */
const MIN_PADDED_BYTES = 256;

/** An AES-256-GCM box as stored: nonce, tag and ciphertext in their own columns. */
export type Sealed = { nonce: Buffer; tag: Buffer; ciphertext: Buffer };

/**
 * Seals `plaintext` under `key` with a fresh random nonce, binding it to `aad` (the row's
 * pointer or id): a ciphertext copied into another row does not open there. The plaintext
 * is padded to the next power of two (at least 256 bytes) so the stored length tells little
 * of the blob's size (the contract exposes no blob sizes).
 */
export function seal(key: Buffer, aad: string, plaintext: Buffer): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(pad(plaintext)), cipher.final()]);
  return { nonce, tag: cipher.getAuthTag(), ciphertext };
}

/** Opens a box sealed by `seal`; throws when the key, the `aad` or any byte differs. */
export function open(key: Buffer, aad: string, sealed: Sealed): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  return unpad(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]));
}

function pad(plaintext: Buffer): Buffer {
  const needed = LENGTH_BYTES + plaintext.length;
  let size = MIN_PADDED_BYTES;
  while (size < needed) size *= 2;
  const out = Buffer.alloc(size);
  out.writeUInt32BE(plaintext.length, 0);
  plaintext.copy(out, LENGTH_BYTES);
  return out;
}

function unpad(padded: Buffer): Buffer {
  const length = padded.readUInt32BE(0);
  return padded.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
}
