// The client's log lines: protocol surprises are logged, not thrown (house style), so the agent
// decides where they go.

export type LogLevel = 'debug' | 'info' | 'warn';

/** Receives one line of text, already prefixed with who says it (`mgmt0 <identifier>: ...`). */
export type LogFn = (level: LogLevel, line: string) => void;

export const silentLog: LogFn = () => undefined;
