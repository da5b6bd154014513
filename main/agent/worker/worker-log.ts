/** A log line sink for the worker; stdout is the protocol, so this never writes there. */
export type WorkerLog = (message: string) => void;

/** Logs to stderr, which the host collects (and caps) as the worker's diagnostic output. */
export function stderrLog(stream: NodeJS.WritableStream = process.stderr): WorkerLog {
  return (message) => {
    // One line per entry so the host can attribute and truncate lines.
    stream.write(`[agent-worker] ${message.replaceAll('\n', ' ')}\n`);
  };
}
