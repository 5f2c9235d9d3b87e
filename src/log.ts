/** One JSON object per line: easy to read in a terminal and to ship to a log store. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export function createLogger(component = 'transferd', quiet = false): Logger {
  return (level, msg, fields = {}) => {
    if (quiet && level !== 'error') return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields });
    (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
  };
}

export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const cause = err.cause instanceof Error ? { cause: err.cause.message } : {};
  return { error: err.message, ...cause, stack: err.stack };
}
