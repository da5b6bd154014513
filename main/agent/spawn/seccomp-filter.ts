/**
 * The jail's seccomp program (classic BPF, as bwrap's `--seccomp FD` loads it), built here
 * so no compiler or libseccomp is needed. A deny list over Node's needs: everything a
 * worker does (threads, pipes, files it may read, timers) stays allowed; what only an
 * escape needs is refused with EPERM:
 * - sockets of any family but AF_UNIX (no IP, packet or netlink sockets, even in the
 *   jail's own empty network namespace);
 * - new processes: fork, vfork, and clone without CLONE_THREAD (threads stay allowed;
 *   clone3 answers ENOSYS so the C library falls back to clone, whose flags BPF can read);
 * - ptrace and reading or writing another process's memory;
 * - signals to other processes by pid (kill, tkill, rt_sigqueueinfo, pidfd_send_signal;
 *   tgkill stays: abort() uses it on the worker itself);
 * - io_uring, whose operations (sockets included) would bypass this filter;
 * - bpf, userfaultfd, perf_event_open and the kernel keyring: kernel attack surface a
 *   worker never needs.
 * A syscall from another ABI than the one the filter was built for (x32, 32-bit compat)
 * kills the process: its numbers mean other calls.
 */

/** The architectures a filter can be built for (Node's `process.arch` names). */
export type SeccompArch = 'x64' | 'arm64';

type ArchTable = {
  auditArch: number;
  /** Syscalls refused outright. */
  denied: readonly number[];
  socket: number;
  clone: number;
  clone3: number;
  /** First number of the x32 ABI on x86_64 (its syscalls set this bit). */
  x32Bit: number | null;
};

// Numbers from the kernel's syscall tables (arch/x86/entry/syscalls/syscall_64.tbl and
// include/uapi/asm-generic/unistd.h for arm64).
const TABLES: Record<SeccompArch, ArchTable> = {
  x64: {
    auditArch: 0xc000003e,
    denied: [
      57, // fork
      58, // vfork
      101, // ptrace
      310, // process_vm_readv
      311, // process_vm_writev
      62, // kill
      200, // tkill
      129, // rt_sigqueueinfo
      424, // pidfd_send_signal
      425, // io_uring_setup
      426, // io_uring_enter
      427, // io_uring_register
      321, // bpf
      323, // userfaultfd
      298, // perf_event_open
      248, // add_key
      249, // request_key
      250, // keyctl
    ],
    socket: 41,
    clone: 56,
    clone3: 435,
    x32Bit: 0x40000000,
  },
  arm64: {
    auditArch: 0xc00000b7,
    denied: [
      117, // ptrace
      270, // process_vm_readv
      271, // process_vm_writev
      129, // kill
      130, // tkill
      138, // rt_sigqueueinfo
      424, // pidfd_send_signal
      425, // io_uring_setup
      426, // io_uring_enter
      427, // io_uring_register
      280, // bpf
      282, // userfaultfd
      241, // perf_event_open
      217, // add_key
      218, // request_key
      219, // keyctl
    ],
    socket: 198,
    clone: 220,
    clone3: 435,
    x32Bit: null,
  },
};

const AF_UNIX = 1;
const CLONE_THREAD = 0x10000;
const EPERM = 1;
const ENOSYS = 38;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Low 32 bits of args[0] (little-endian on both architectures). */
const OFFSET_ARG0 = 16;

const LD_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET = 0x06; // BPF_RET | BPF_K

const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (errno: number): number => 0x00050000 | errno;

type Instruction = { code: number; jt: number; jf: number; k: number };
const op = (code: number, k: number, jt = 0, jf = 0): Instruction => ({ code, jt, jf, k });

/**
 * Syscall `nr` is allowed when `test` (a jump on its first argument, true: skip none, false:
 * skip one) holds, else EPERM. Every path ends in a return, so the accumulator holding the
 * argument never reaches a later rule.
 */
function firstArgRule(nr: number, test: Instruction): Instruction[] {
  return [
    op(JEQ, nr, 0, 4),
    op(LD_ABS, OFFSET_ARG0),
    test,
    op(RET, RET_ALLOW),
    op(RET, retErrno(EPERM)),
  ];
}

/** The program as instructions, for tests and for `seccompProgram`. */
export function seccompInstructions(arch: SeccompArch): Instruction[] {
  const t = TABLES[arch];
  const program: Instruction[] = [
    op(LD_ABS, OFFSET_ARCH),
    op(JEQ, t.auditArch, 1, 0),
    op(RET, RET_KILL_PROCESS),
    op(LD_ABS, OFFSET_NR),
  ];
  if (t.x32Bit !== null) program.push(op(JGE, t.x32Bit, 0, 1), op(RET, RET_KILL_PROCESS));
  for (const nr of t.denied) program.push(op(JEQ, nr, 0, 1), op(RET, retErrno(EPERM)));
  program.push(op(JEQ, t.clone3, 0, 1), op(RET, retErrno(ENOSYS)));
  program.push(
    ...firstArgRule(t.socket, op(JEQ, AF_UNIX, 0, 1)),
    ...firstArgRule(t.clone, op(JSET, CLONE_THREAD, 0, 1)),
  );
  program.push(op(RET, RET_ALLOW));
  return program;
}

/** The program as bwrap reads it: `struct sock_filter` entries (u16 code, u8 jt, u8 jf, u32 k). */
export function seccompProgram(arch: SeccompArch): Buffer {
  const instructions = seccompInstructions(arch);
  const out = Buffer.alloc(instructions.length * 8);
  instructions.forEach((ins, i) => {
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(ins.jt, i * 8 + 2);
    out.writeUInt8(ins.jf, i * 8 + 3);
    out.writeUInt32LE(ins.k, i * 8 + 4);
  });
  return out;
}

/** The filter's architecture for this Node, or null where none is built (the jail then runs without it). */
export function seccompArchOf(arch: string): SeccompArch | null {
  return arch === 'x64' || arch === 'arm64' ? arch : null;
}
