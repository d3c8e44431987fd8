// A hand-written SVG bar chart of the benchmark's medians: one panel per
// metric, one group of bars per family and size, one bar each for fastdgram,
// node:dgram and the C limit. No dependency.

const COLORS = { fast: '#e4572e', node: '#4c78a8', c: '#8d8d8d' };
const LABELS = { fast: 'fastdgram', node: 'node:dgram', c: 'C limit (recvmmsg/sendmmsg)' };

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// 1234567 -> "1.23M", 41234 -> "41.2k", 2.4123 -> "2.41"
export function compact(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(2);
}

// axis labels: 5 -> "5", 2.5 -> "2.5", 50000 -> "50k", 1500000 -> "1.5M"
function tick(v) {
  const trim = (x) => String(Number(x.toPrecision(3)));
  if (v >= 1e6) return `${trim(v / 1e6)}M`;
  if (v >= 1e4) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

// metrics: [{ title, unit, better: 'lower'|'higher', groups: [{ label, fast, node, c }] }]
export function barChart({ title, subtitle, metrics }) {
  const cols = 2;
  const pw = 520;
  const ph = 270;
  const top = 92;
  const width = cols * pw + 20;
  const rows = Math.ceil(metrics.length / cols);
  const height = top + rows * ph + 20;
  const keys = ['fast', 'node', 'c'];
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`);
  o.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  o.push(`<text x="20" y="30" font-size="20" font-weight="bold" fill="#222">${esc(title)}</text>`);
  if (subtitle) o.push(`<text x="20" y="52" font-size="12" fill="#555">${esc(subtitle)}</text>`);
  let lx = 20;
  for (const k of keys) {
    o.push(`<rect x="${lx}" y="66" width="14" height="14" fill="${COLORS[k]}"/>`);
    o.push(`<text x="${lx + 20}" y="78" font-size="13" fill="#222">${esc(LABELS[k])}</text>`);
    lx += 40 + LABELS[k].length * 7.2;
  }
  metrics.forEach((m, i) => {
    const x0 = 10 + (i % cols) * pw;
    const y0 = top + Math.floor(i / cols) * ph;
    const left = x0 + 58;
    const right = x0 + pw - 16;
    const plotTop = y0 + 34;
    const plotBottom = y0 + ph - 42;
    const plotH = plotBottom - plotTop;
    const values = m.groups.flatMap((g) => keys.map((k) => g[k])).filter((v) => Number.isFinite(v));
    const maxV = values.length ? Math.max(...values) : 1;
    const step = niceStep(maxV > 0 ? maxV * 1.12 : 1, 5);
    const axisMax = Math.max(step, Math.ceil((maxV * 1.12) / step) * step);
    const y = (v) => plotBottom - (v / axisMax) * plotH;
    const hint = m.better === 'lower' ? 'lower is better' : 'higher is better';
    o.push(`<text x="${x0 + 8}" y="${y0 + 18}" font-size="14" font-weight="bold" fill="#222">${esc(m.title)} <tspan font-weight="normal" fill="#666">(${esc(m.unit)}, ${hint})</tspan></text>`);
    for (let t = 0; t <= axisMax + step / 2; t += step) {
      const ty = y(t);
      o.push(`<line x1="${left}" y1="${ty.toFixed(1)}" x2="${right}" y2="${ty.toFixed(1)}" stroke="#e3e3e3"/>`);
      o.push(`<text x="${left - 6}" y="${(ty + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#666">${esc(tick(t))}</text>`);
    }
    o.push(`<line x1="${left}" y1="${plotBottom}" x2="${right}" y2="${plotBottom}" stroke="#999"/>`);
    const gw = (right - left) / m.groups.length;
    const bw = Math.min(34, (gw - 16) / keys.length);
    m.groups.forEach((g, gi) => {
      const gx = left + gi * gw + (gw - bw * keys.length) / 2;
      keys.forEach((k, ki) => {
        const v = g[k];
        const bx = gx + ki * bw;
        if (Number.isFinite(v)) {
          const by = y(v);
          o.push(`<rect x="${(bx + 1).toFixed(1)}" y="${by.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(plotBottom - by).toFixed(1)}" fill="${COLORS[k]}"><title>${esc(`${LABELS[k]}, ${g.label}: ${compact(v)} ${m.unit}`)}</title></rect>`);
          o.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${(by - 3).toFixed(1)}" font-size="9" text-anchor="middle" fill="#333">${esc(compact(v))}</text>`);
        } else if (v !== undefined) { // undefined: no such bar (node:dgram lacks the feature)
          o.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${plotBottom - 3}" font-size="9" text-anchor="middle" fill="#999">n/a</text>`);
        }
      });
      o.push(`<text x="${(left + gi * gw + gw / 2).toFixed(1)}" y="${plotBottom + 16}" font-size="11" text-anchor="middle" fill="#333">${esc(g.label)}</text>`);
    });
  });
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
