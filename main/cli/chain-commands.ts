import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ChainVerifyResult } from '../../contracts/chain.ts';
import { parsePublicKey } from '../chain/chain-signing-key.ts';
import { verifyChainExport, type ExportVerification } from '../chain/verify-export.ts';
import { AppError } from '../errors.ts';
import { connect, print, userPath } from './cli-context.ts';
import { EXIT } from './exit-codes.ts';

/** Options of `ccos chain verify`. */
export type ChainVerifyOptions = { file?: string; publicKey?: string };

/**
 * `ccos chain verify`: online (the running host re-hashes its chain and checks its signed
 * heads) or, with `--file`, offline over an export, with no host at all. Exit 1 when broken.
 */
export async function chainVerify(opts: ChainVerifyOptions, command: Command): Promise<void> {
  if (opts.file === undefined) {
    if (opts.publicKey !== undefined)
      throw new AppError('INVALID_INPUT', '--public-key needs --file (an export to check)');
    const { client, json } = await connect(command);
    const result = await client.call('verifyChain');
    print(json, result, describe);
    if (!result.ok) process.exitCode = EXIT.FAILED;
    return;
  }
  const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
  const pinned =
    opts.publicKey === undefined
      ? undefined
      : parsePublicKey(
          await readFile(userPath(opts.publicKey), 'utf8').catch(() => {
            throw new AppError(
              'INVALID_INPUT',
              `--public-key: cannot read ${opts.publicKey ?? ''}`,
            );
          }),
        );
  const file = userPath(opts.file);
  const input = createReadStream(file, 'utf8');
  const opened = new Promise<void>((resolve, reject) => {
    input.once('ready', () => {
      resolve();
    });
    input.once('error', () => {
      reject(new AppError('INVALID_INPUT', `--file: cannot read ${file}`));
    });
  });
  await opened;
  const result = await verifyChainExport(createInterface({ input, crlfDelay: Infinity }), pinned);
  print(json, result, (r) => `${describe(r)}\n${keyLine(r)}`);
  if (!result.ok) process.exitCode = EXIT.FAILED;
}

function describe(r: ChainVerifyResult): string {
  if (!r.ok) return `chain BROKEN at seq ${r.broken_at_seq} (${r.reason}): ${r.message}`;
  const signed =
    r.signed_heads === undefined || r.signed_heads.last_seq === null
      ? 'no signed head yet'
      : `${r.signed_heads.count} signed head(s), the newest at seq ${r.signed_heads.last_seq}`;
  return `chain ok: ${r.entries} entries, head ${r.head}; ${signed}`;
}

function keyLine(r: ExportVerification): string {
  return r.key_pinned
    ? `signed by the pinned key ${r.key_id}`
    : `signed by key ${r.key_id}, as the export itself says: pass --public-key <file> (the host's chain-signing public key, kept elsewhere) to pin it`;
}

/** `ccos chain export`: the whole chain with its signed heads, as NDJSON. */
export function registerChainExport(chain: Command): void {
  chain
    .command('export')
    .description(
      'write the whole chain and its signed heads (NDJSON) to --out or stdout, for `ccos chain verify --file`',
    )
    .option('--out <file>', 'write here instead of stdout')
    .action(async (opts: { out?: string }, command: Command) => {
      const { client } = await connect(command);
      const res = await client.stream('exportChain');
      if (res.body === null) throw new AppError('INTERNAL', 'the host sent an empty export');
      const out =
        opts.out === undefined
          ? process.stdout
          : createWriteStream(userPath(opts.out), { mode: 0o600 });
      await pipeline(Readable.fromWeb(res.body), out);
    });
}
