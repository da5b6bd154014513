import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { Redactor } from './redactor.ts';

/**
 * The host's structured logger (pino, JSON lines on stderr). Every line passes through the
 * redactor before it is written: the message, every field and nested error.
 */
export function createLogger(options: {
  level: LevelWithSilent;
  redactor: Redactor;
  destination?: pino.DestinationStream;
}): Logger {
  const { redactor } = options;
  return pino(
    {
      level: options.level,
      formatters: { log: (object) => redactor.redactValue(object) },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactor.redactString(a) : a));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (err: unknown) => redactor.redactValue(pino.stdSerializers.err(err as Error)),
      },
    },
    options.destination ?? pino.destination(2),
  );
}
