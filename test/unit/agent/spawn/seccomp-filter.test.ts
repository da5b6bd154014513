import { describe, expect, it } from 'vitest';
import {
  seccompInstructions,
  seccompProgram,
  type SeccompArch,
} from '../../../../main/agent/spawn/seccomp-filter.ts';

const ALLOW = 0x7fff0000;
const KILL = 0x80000000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;

/**
 * Runs a classic BPF program over one `struct seccomp_data` the way the kernel does, for
 * the instructions the filter uses (load word, jeq, jge, jset, ret). A jump past the end
 * or an unknown instruction fails the test: the kernel would refuse the program.
 */
function verdict(
  arch: SeccompArch,
  call: { nr: number; arg0?: number; auditArch?: number },
): number {
  const program = seccompInstructions(arch);
  const data = new Map<number, number>([
    [0, call.nr],
    [4, call.auditArch ?? ARCH[arch]],
    [16, call.arg0 ?? 0],
  ]);
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const ins = program[pc];
    if (ins === undefined) break;
    const k = ins.k >>> 0;
    switch (ins.code) {
      case 0x20:
        a = data.get(k) ?? 0;
        break;
      case 0x15:
        pc += a === k ? ins.jt : ins.jf;
        break;
      case 0x35:
        pc += a >>> 0 >= k ? ins.jt : ins.jf;
        break;
      case 0x45:
        pc += (a & k) !== 0 ? ins.jt : ins.jf;
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`unknown instruction ${ins.code.toString(16)}`);
    }
  }
  throw new Error('the program ran off its end');
}

describe('the jail seccomp filter', () => {
  const x64 = (nr: number, arg0?: number) =>
    verdict('x64', { nr, ...(arg0 === undefined ? {} : { arg0 }) });

  it('refuses sockets of every family but AF_UNIX', () => {
    expect(x64(41, 2)).toBe(EPERM); // AF_INET
    expect(x64(41, 10)).toBe(EPERM); // AF_INET6
    expect(x64(41, 16)).toBe(EPERM); // AF_NETLINK
    expect(x64(41, 17)).toBe(EPERM); // AF_PACKET
    expect(x64(41, 1)).toBe(ALLOW); // AF_UNIX
  });

  it('refuses new processes but lets threads start (clone3 falls back to clone)', () => {
    const CLONE_THREAD_FLAGS = 0x3d0f00; // what glibc's pthread_create passes
    const SIGCHLD = 17; // what fork() passes
    expect(x64(56, CLONE_THREAD_FLAGS)).toBe(ALLOW);
    expect(x64(56, SIGCHLD)).toBe(EPERM);
    expect(x64(57)).toBe(EPERM); // fork
    expect(x64(58)).toBe(EPERM); // vfork
    expect(x64(435)).toBe(ENOSYS); // clone3
  });

  it('refuses ptrace, signals by pid, io_uring and other kernel surface; allows ordinary calls', () => {
    for (const nr of [101, 62, 200, 129, 424, 425, 426, 427, 310, 311, 321, 323, 298, 250]) {
      expect(x64(nr), `syscall ${String(nr)}`).toBe(EPERM);
    }
    for (const nr of [0, 1, 3, 9, 59, 60, 202, 231, 234]) {
      // read, write, close, mmap, execve, exit, futex, exit_group, tgkill
      expect(x64(nr), `syscall ${String(nr)}`).toBe(ALLOW);
    }
  });

  it('kills a process calling through another ABI (x32, or another architecture)', () => {
    expect(x64(0x40000000 + 41, 2)).toBe(KILL);
    expect(verdict('x64', { nr: 41, arg0: 2, auditArch: 0x40000003 })).toBe(KILL); // i386
  });

  it('is built for arm64 too, with its own numbers', () => {
    expect(verdict('arm64', { nr: 198, arg0: 2 })).toBe(EPERM); // socket(AF_INET)
    expect(verdict('arm64', { nr: 198, arg0: 1 })).toBe(ALLOW);
    expect(verdict('arm64', { nr: 220, arg0: 17 })).toBe(EPERM); // clone for a process
    expect(verdict('arm64', { nr: 117 })).toBe(EPERM); // ptrace
    expect(verdict('arm64', { nr: 41, arg0: 2, auditArch: ARCH.x64 })).toBe(KILL);
  });

  it('serialises 8 bytes per instruction, little-endian, as bwrap reads it', () => {
    const bytes = seccompProgram('x64');
    const instructions = seccompInstructions('x64');
    expect(bytes.length).toBe(instructions.length * 8);
    expect(bytes.readUInt16LE(0)).toBe(0x20);
    expect(bytes.readUInt32LE(4)).toBe(4); // the first loads seccomp_data.arch
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(ALLOW);
  });
});
