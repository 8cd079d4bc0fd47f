// Readable, one-line-per-event logs. Secrets never reach here: callers log ids, never client secrets or tokens.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  level: LogLevel;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(prefix: string): Logger;
}

export function createLogger(level: LogLevel = 'info', prefix = '', sink: (line: string) => void = (l) => console.log(l)): Logger {
  const state = { level };
  const make = (pfx: string): Logger => {
    const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string) => {
      if (ORDER[lvl] < ORDER[state.level]) return;
      sink(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${pfx ? `[${pfx}] ` : ''}${msg}`);
    };
    return {
      get level() { return state.level; },
      set level(l: LogLevel) { state.level = l; },
      debug: (m) => emit('debug', m),
      info: (m) => emit('info', m),
      warn: (m) => emit('warn', m),
      error: (m) => emit('error', m),
      child: (p) => make(pfx ? `${pfx} ${p}` : p),
    };
  };
  return make(prefix);
}

/** Shortens long ids for log lines: "TNhvT3WE…". */
export function short(id: string, n = 8): string {
  return id.length > n + 1 ? `${id.slice(0, n)}…` : id;
}
