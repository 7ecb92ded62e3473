import type { LoggerService } from '@nestjs/common';

export interface LogLine {
  level: string;
  message: string;
  context: unknown;
}

/** A LoggerService that keeps every line, so a test can assert on what was logged (and nothing is printed). */
export function recordingLogger(lines: LogLine[]): LoggerService {
  const keep =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) =>
      void lines.push({ level, message: String(message), context: rest.at(-1) });
  return {
    log: keep('log'),
    error: keep('error'),
    warn: keep('warn'),
    debug: keep('debug'),
    verbose: keep('verbose'),
    fatal: keep('fatal'),
  };
}
