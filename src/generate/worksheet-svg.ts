// One filer's interface stack as an SVG drawing (hand-written SVG text, no library): NICs at the
// bottom with a blank for the switch port, each interface one row above the highest thing it sits
// on, aliases with their addresses at the top. Each row is ordered by where its children are
// (barycentre), so bonds sit over their NICs and lines rarely cross.
import type { FilerSheet, StackNode, Worksheet } from './worksheet-model.js';
import { naturalCompare } from '../options/wire/index.js';

export function svgFileName(filer: string): string {
  return `worksheet-${filer}.svg`;
}

const BOX_W = 168;
const BOX_H = 58;
const H_GAP = 22;
const V_GAP = 54;
const MARGIN = 24;
const TITLE_H = 56;
const PORT_H = 40;
const LEGEND_H = 40;

const STYLE: Record<StackNode['kind'], { fill: string; stroke: string; label: string }> = {
  nic: { fill: '#e8eef7', stroke: '#4a6fa5', label: 'NIC' },
  bond: { fill: '#e6f4ea', stroke: '#2e7d32', label: 'bond' },
  failover: { fill: '#fff4e5', stroke: '#e08a00', label: 'failover group' },
  vlan: { fill: '#f3e8fd', stroke: '#7b3fb0', label: 'VLAN' },
  alias: { fill: '#fde8e8', stroke: '#c62828', label: 'alias (addresses)' },
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);

/** Width a routing point takes in its row: an edge passing a row gets its own lane there. */
const LANE_W = 18;

interface Item {
  id: string;
  width: number;
  level: number;
  /** Items one row below that this one sits on (for a routing point: the one below it). */
  below: string[];
}

interface Layout {
  x: Map<string, number>;
  width: number;
  levels: number;
  /** Per edge: the routing points between its ends, lowest first. */
  routes: Map<string, string[]>;
}

const edgeKey = (e: { from: string; to: string }): string => `${e.from}>${e.to}`;

/**
 * Layered layout (the Sugiyama scheme, simplified): an edge that skips rows gets a routing point
 * in each row it crosses, so lines never run behind a box; each row is ordered by the mean x of
 * what it sits on (barycentre) and pushed apart to keep the gaps.
 */
function layout(f: FilerSheet): Layout {
  const levels = Math.max(0, ...f.nodes.map((n) => n.level)) + 1;
  const items = new Map<string, Item>();
  for (const n of f.nodes) items.set(n.name, { id: n.name, width: BOX_W, level: n.level, below: [] });
  const routes = new Map<string, string[]>();
  for (const e of f.edges) {
    const from = items.get(e.from);
    const to = items.get(e.to);
    if (!from || !to) continue;
    const points: string[] = [];
    let prev = from.id;
    for (let l = from.level + 1; l < to.level; l++) {
      const id = `${edgeKey(e)}@${l}`;
      items.set(id, { id, width: LANE_W, level: l, below: [prev] });
      points.push(id);
      prev = id;
    }
    to.below.push(prev);
    routes.set(edgeKey(e), points);
  }
  const rows: Item[][] = Array.from({ length: levels }, () => []);
  for (const it of items.values()) rows[it.level]!.push(it);
  const x = new Map<string, number>();
  rows.forEach((row, l) => {
    let cursor = 0;
    const wanted = row.map((it) => {
      const xs = it.below.map((b) => x.get(b)).filter((v): v is number => v !== undefined);
      const want = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : cursor + it.width / 2;
      if (!xs.length) cursor += it.width + H_GAP;
      return { it, want };
    });
    if (l === 0) wanted.sort((a, b) => naturalCompare(a.it.id, b.it.id));
    else wanted.sort((a, b) => a.want - b.want || naturalCompare(a.it.id, b.it.id));
    let prevRight = -Infinity;
    for (const { it, want } of wanted) {
      const at = Math.max(want, prevRight + H_GAP + it.width / 2);
      x.set(it.id, at);
      prevRight = at + it.width / 2;
    }
  });
  let min = Infinity;
  let max = -Infinity;
  for (const it of items.values()) {
    min = Math.min(min, x.get(it.id)! - it.width / 2);
    max = Math.max(max, x.get(it.id)! + it.width / 2);
  }
  if (!Number.isFinite(min)) min = max = 0;
  for (const [k, v] of x) x.set(k, v - min + MARGIN);
  return { x, width: Math.max(max - min + 2 * MARGIN, 560), levels, routes };
}

export function renderFilerSvg(w: Worksheet, f: FilerSheet): string {
  const { x, width, levels, routes } = layout(f);
  const top = (level: number): number => TITLE_H + (levels - 1 - level) * (BOX_H + V_GAP);
  const height = TITLE_H + levels * BOX_H + (levels - 1) * V_GAP + PORT_H + LEGEND_H + MARGIN;
  const byName = new Map(f.nodes.map((n) => [n.name, n]));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${fmt(width)}" height="${fmt(height)}" viewBox="0 0 ${fmt(width)} ${fmt(height)}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `  <title>${esc(`${f.filer}: interface stack`)}</title>`,
    `  <rect x="0" y="0" width="${fmt(width)}" height="${fmt(height)}" fill="#ffffff"/>`,
    `  <text x="${MARGIN}" y="26" font-size="18" font-weight="bold" fill="#222222">${esc(`${f.filer} · interface stack`)}</text>`,
    `  <text x="${MARGIN}" y="44" font-size="12" fill="#555555">${esc(`base MAC ${f.baseMac} · cluster ${w.cluster.name} (${w.cluster.id}) · generation ${w.cluster.generation}`)}</text>`,
  );

  out.push('  <g stroke="#777777" stroke-width="1.5" fill="none">');
  const curve = (x1: number, y1: number, x2: number, y2: number): string => {
    const mid = (y1 + y2) / 2;
    return `C ${fmt(x1)} ${fmt(mid)}, ${fmt(x2)} ${fmt(mid)}, ${fmt(x2)} ${fmt(y2)}`;
  };
  for (const e of f.edges) {
    const from = byName.get(e.from);
    const to = byName.get(e.to);
    if (!from || !to) continue;
    // Up from the lower box's top, through each routing point (a vertical run across its row),
    // into the upper box's bottom.
    let px = x.get(e.from)!;
    let py = top(from.level);
    const d = [`M ${fmt(px)} ${fmt(py)}`];
    for (const p of routes.get(edgeKey(e)) ?? []) {
      const level = Number(p.slice(p.lastIndexOf('@') + 1));
      const qx = x.get(p)!;
      d.push(curve(px, py, qx, top(level) + BOX_H), `L ${fmt(qx)} ${fmt(top(level))}`);
      px = qx;
      py = top(level);
    }
    d.push(curve(px, py, x.get(e.to)!, top(to.level) + BOX_H));
    out.push(`    <path d="${d.join(' ')}"/>`);
  }
  out.push('  </g>');

  for (const n of f.nodes) {
    const s = STYLE[n.kind];
    const cx = x.get(n.name)!;
    const y = top(n.level);
    out.push(`  <g>`);
    out.push(`    <rect x="${fmt(cx - BOX_W / 2)}" y="${fmt(y)}" width="${BOX_W}" height="${BOX_H}" rx="7" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.5"/>`);
    out.push(`    <text x="${fmt(cx)}" y="${fmt(y + 20)}" text-anchor="middle" font-size="14" font-weight="bold" fill="#222222">${esc(n.name)}</text>`);
    n.detail.slice(0, 2).forEach((d, i) => {
      out.push(`    <text x="${fmt(cx)}" y="${fmt(y + 37 + i * 14)}" text-anchor="middle" font-size="11.5" fill="#333333">${esc(d)}</text>`);
    });
    if (n.kind === 'nic') {
      out.push(`    <text x="${fmt(cx)}" y="${fmt(y + BOX_H + 22)}" text-anchor="middle" font-size="12" fill="#333333">switch port: ____________</text>`);
    }
    out.push('  </g>');
  }

  const ly = height - MARGIN - 10;
  let lx = MARGIN;
  out.push('  <g font-size="12" fill="#333333">');
  for (const s of Object.values(STYLE)) {
    out.push(`    <rect x="${lx}" y="${ly - 11}" width="14" height="14" rx="3" fill="${s.fill}" stroke="${s.stroke}"/>`);
    out.push(`    <text x="${lx + 20}" y="${ly}">${esc(s.label)}</text>`);
    lx += 20 + s.label.length * 7 + 22;
  }
  out.push('  </g>', '</svg>');
  return `${out.join('\n')}\n`;
}
