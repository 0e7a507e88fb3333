// Telling systemd how a service is doing (sd_notify(3)): READY=1 once it is up, STATUS= lines,
// STOPPING=1 on the way out. The socket comes from $NOTIFY_SOCKET (set by systemd for
// Type=notify units); without it every call does nothing, so the same code runs by hand and in
// tests. The variable is taken out of the environment at once, so the commands the agent runs
// (ip, iptables) never see it and cannot speak for the service.
import { loadNative } from '../net/native.js';

export interface Notifier {
  /** True when systemd listens ($NOTIFY_SOCKET was set). */
  readonly active: boolean;
  ready(status?: string): void;
  status(text: string): void;
  stopping(): void;
}

export type NotifySend = (socket: string, text: string) => void;

/** The notifier of this process; `send` is the addon's sdNotify unless a test gives another. */
export function systemdNotifier(opts: { env?: NodeJS.ProcessEnv; send?: NotifySend; onError?: (err: Error) => void } = {}): Notifier {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  delete env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return { active: false, ready: () => undefined, status: () => undefined, stopping: () => undefined };
  const send = opts.send ?? ((s: string, text: string) => loadNative().sdNotify(s, text));
  const say = (text: string) => {
    try {
      send(socket, text);
    } catch (err) {
      opts.onError?.(err as Error);
    }
  };
  // One line per field; a newline inside STATUS would start another field.
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  return {
    active: true,
    ready: (status) => say(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`),
    status: (text) => say(`STATUS=${oneLine(text)}`),
    stopping: () => say('STOPPING=1'),
  };
}
