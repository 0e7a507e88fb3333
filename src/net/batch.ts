// formatBatch: a plan as text — `rackstrap plan`'s output. iproute2 steps are written in
// `ip -batch` syntax (the command without the leading "ip"); the few other commands (iptables,
// sysctl) are written whole, starting with their program's name. Skips and (optionally) reasons
// are `#` comments, which `ip -batch` ignores. Printing changes nothing.
import type { Plan, Step } from './plan.js';

export interface FormatOptions {
  /** Append each step's reason as a trailing comment. */
  reasons?: boolean;
}

export function formatBatch(plan: Plan | readonly Step[], opts: FormatOptions = {}): string {
  const steps = Array.isArray(plan) ? (plan as readonly Step[]) : (plan as Plan).steps;
  const skipped = Array.isArray(plan) ? [] : (plan as Plan).skipped;
  const lines: string[] = [];
  for (const s of skipped) lines.push(`# skipped (${s.feature}) ${s.target}: ${s.reason}`);
  for (const s of steps) {
    const line = formatArgv(s.argv);
    lines.push(opts.reasons ? `${line}  # ${s.reason}` : line);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** One command as a batch line: `ip` commands lose their "ip", others stay whole. */
export function formatArgv(argv: readonly string[]): string {
  const words = argv[0] === 'ip' ? argv.slice(1) : argv;
  return words.map(quote).join(' ');
}

// ip's batch parser (makeargs) splits on blanks and honours "..." quotes; keep words bare when safe.
function quote(word: string): string {
  return /^[A-Za-z0-9._:/+@%=,-]+$/.test(word) ? word : `"${word.replace(/"/g, '\\"')}"`;
}
