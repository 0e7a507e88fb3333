// The generator's targets by name: a module of its own so the CLI can list them without loading
// the generators.
export const TARGETS = ['dhcpd', 'kea', 'dnsmasq', 'dhclient', 'worksheet'] as const;
export type Target = (typeof TARGETS)[number];

export function isTarget(s: string): s is Target {
  return (TARGETS as readonly string[]).includes(s);
}
