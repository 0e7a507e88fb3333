// A small dependency-free SVG line chart: panels in a grid, each with its own axes, several
// named series sharing a colour across panels. Enough for the bench's scale curve.

export interface Series {
  name: string;
  /** [x, y]; y null = no value (a failed run): the line is broken there. */
  points: Array<[number, number | null]>;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log scale on x (reservations 1k…100k). */
  xLog?: boolean;
  /** Tick labels for the x values. */
  xTicks: Array<[number, string]>;
  series: Series[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const W = 360;
const H = 250;
const M = { left: 62, right: 14, top: 30, bottom: 44 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panelSvg(p: Panel, colourOf: (name: string) => string, ox: number, oy: number): string {
  const xs = p.xTicks.map(([x]) => x);
  const fx = (x: number): number => (p.xLog ? Math.log10(x) : x);
  const x0 = Math.min(...xs.map(fx));
  const x1 = Math.max(...xs.map(fx));
  const ys = p.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y): y is number => y !== null);
  const yMax = niceMax(Math.max(1, ...ys) * 1.05);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number): number => ox + M.left + (x1 === x0 ? pw / 2 : ((fx(x) - x0) / (x1 - x0)) * pw);
  const py = (y: number): number => oy + M.top + ph - (y / yMax) * ph;
  const out: string[] = [];
  out.push(`<text x="${ox + W / 2}" y="${oy + 18}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${ox + M.left}" y="${oy + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    out.push(`<line x1="${ox + M.left}" x2="${ox + M.left + pw}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`);
    out.push(`<text x="${ox + M.left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${Math.round(y).toLocaleString('en')}</text>`);
  }
  for (const [x, label] of p.xTicks) out.push(`<text x="${px(x)}" y="${oy + M.top + ph + 16}" text-anchor="middle" font-size="11">${esc(label)}</text>`);
  out.push(`<text x="${ox + M.left + pw / 2}" y="${oy + H - 8}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(${ox + 14},${oy + M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  for (const s of p.series) {
    const c = colourOf(s.name);
    let path = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null) {
        pen = false;
        continue;
      }
      path += `${pen ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)} `;
      pen = true;
      out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`);
    }
    if (path) out.push(`<path d="${path.trim()}" fill="none" stroke="${c}" stroke-width="2"/>`);
  }
  return out.join('\n');
}

/** Panels in rows of `columns`, one legend for all series, a title and a footnote. */
export function renderSvg(title: string, footnote: string, panels: Panel[], columns: number): string {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const colourOf = (name: string): string => COLOURS[names.indexOf(name) % COLOURS.length]!;
  const rows = Math.ceil(panels.length / columns);
  const width = columns * W;
  const top = 56;
  const height = top + rows * H + 40;
  const body = panels.map((p, i) => panelSvg(p, colourOf, (i % columns) * W, top + Math.floor(i / columns) * H));
  const legend = names.map((n, i) => `<rect x="${20 + i * 210}" y="34" width="14" height="4" fill="${colourOf(n)}"/><text x="${40 + i * 210}" y="40" font-size="12">${esc(n)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...legend,
    ...body,
    `<text x="10" y="${height - 12}" font-size="11" fill="#444">${esc(footnote)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
