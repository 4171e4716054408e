import type { StepResult } from '../posting-step.js';

export interface ChartPanel {
  title: string;
  xLabel: string;
  /** The x value of a step (achieved msg/s, or deliveries/s). */
  x: (step: StepResult) => number;
  steps: StepResult[];
  /** The p99 limit, drawn as a dashed line. */
  p99LimitMs: number;
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 78, right: 160, top: 48, bottom: 64 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const SERIES = [
  { key: 'p50', label: 'p50', color: '#1f77b4' },
  { key: 'p99', label: 'p99', color: '#d62728' },
] as const;
const MIN_MS = 0.1;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round step (1, 2 or 5 × 10^k) that cuts [0, max] into about `count` intervals. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
}

/** The smallest 1, 2 or 5 × 10^k at or above `value`. */
function niceAbove(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) if (factor * magnitude >= value) return factor * magnitude;
  return 10 * magnitude;
}

function formatNumber(value: number): string {
  if (value >= 1000 && value % 1000 === 0) return `${value / 1000}k`;
  if (value >= 1) return String(Math.round(value * 100) / 100);
  return String(Math.round(value * 1000) / 1000);
}

function panelSvg(panel: ChartPanel, offsetY: number): string {
  const steps = panel.steps.filter((step) => step.latency.count > 0);
  const out: string[] = [`<g transform="translate(0,${offsetY})">`];
  out.push(`<text x="${WIDTH / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(panel.title)}</text>`);
  if (steps.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" font-size="14">no data</text></g>`);
    return out.join('\n');
  }

  const xMaxData = Math.max(...steps.map(panel.x), 1);
  const xStep = niceStep(xMaxData * 1.1, 6);
  const xMax = Math.ceil((xMaxData * 1.1) / xStep) * xStep;
  const values = steps.flatMap((step) => [step.latency.p50, step.latency.p99]).concat(panel.p99LimitMs).map((v) => Math.max(v, MIN_MS));
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const yMax = niceAbove(Math.max(...values) * 1.15);
  const sx = (x: number) => MARGIN.left + (x / xMax) * PLOT_W;
  const sy = (ms: number) => MARGIN.top + PLOT_H - ((Math.log10(Math.max(ms, MIN_MS)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * PLOT_H;

  // Grid and ticks.
  for (let x = 0; x <= xMax + xStep / 2; x += xStep) {
    const px = sx(x).toFixed(1);
    out.push(`<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${MARGIN.top + PLOT_H}" stroke="#e6e6e6"/>`);
    out.push(`<line x1="${px}" y1="${MARGIN.top + PLOT_H}" x2="${px}" y2="${MARGIN.top + PLOT_H + 5}" stroke="#333"/>`);
    out.push(`<text x="${px}" y="${MARGIN.top + PLOT_H + 20}" text-anchor="middle" font-size="12">${formatNumber(x)}</text>`);
  }
  for (let decade = yMin; decade < yMax * 1.001; decade *= 10) {
    for (const factor of [1, 2, 5]) {
      const ms = decade * factor;
      if (ms > yMax * 1.001) break;
      const py = sy(ms).toFixed(1);
      out.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${MARGIN.left + PLOT_W}" y2="${py}" stroke="${factor === 1 ? '#d0d0d0' : '#eeeeee'}"/>`);
      out.push(`<line x1="${MARGIN.left - 5}" y1="${py}" x2="${MARGIN.left}" y2="${py}" stroke="#333"/>`);
      out.push(`<text x="${MARGIN.left - 8}" y="${py}" dy="4" text-anchor="end" font-size="12">${formatNumber(ms)}</text>`);
    }
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#333"/>`);
  out.push(
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${MARGIN.top + PLOT_H + 44}" text-anchor="middle" font-size="13">${escapeXml(panel.xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(20,${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle" font-size="13">delivery latency, ms (log scale)</text>`,
  );

  // The p99 limit.
  const limitY = sy(panel.p99LimitMs).toFixed(1);
  out.push(`<line x1="${MARGIN.left}" y1="${limitY}" x2="${MARGIN.left + PLOT_W}" y2="${limitY}" stroke="#d62728" stroke-dasharray="6 4" stroke-opacity="0.6"/>`);
  out.push(`<text x="${MARGIN.left + 6}" y="${limitY}" dy="-5" font-size="11" fill="#d62728">p99 limit ${panel.p99LimitMs} ms</text>`);

  // Series: a line through the steps in offered-rate order, a dot per step (hollow if not sustainable).
  const ordered = [...steps].sort((a, b) => a.targetRate - b.targetRate);
  for (const series of SERIES) {
    const points = ordered.map((step) => `${sx(panel.x(step)).toFixed(1)},${sy(step.latency[series.key]).toFixed(1)}`);
    out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    for (const step of ordered) {
      const cx = sx(panel.x(step)).toFixed(1);
      const cy = sy(step.latency[series.key]).toFixed(1);
      out.push(
        `<circle cx="${cx}" cy="${cy}" r="4.5" fill="${step.sustainable ? series.color : 'white'}" stroke="${series.color}" stroke-width="2">` +
          `<title>${escapeXml(`${step.name}: ${series.label} ${step.latency[series.key]} ms at ${formatNumber(panel.x(step))}`)}</title></circle>`,
      );
    }
  }
  for (const step of ordered) {
    out.push(
      `<text x="${sx(panel.x(step)).toFixed(1)}" y="${(sy(step.latency.p99) - 10).toFixed(1)}" text-anchor="middle" font-size="10" fill="#555">${formatNumber(step.targetRate)}/s</text>`,
    );
  }

  // Legend.
  const lx = MARGIN.left + PLOT_W + 16;
  SERIES.forEach((series, i) => {
    const ly = MARGIN.top + 10 + i * 22;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${series.color}" stroke-width="2"/>`);
    out.push(`<circle cx="${lx + 12}" cy="${ly}" r="4" fill="${series.color}"/>`);
    out.push(`<text x="${lx + 32}" y="${ly}" dy="4" font-size="12">${series.label}</text>`);
  });
  const notes = ['filled: sustainable', 'hollow: not sustainable', 'labels: offered rate'];
  notes.forEach((note, i) => out.push(`<text x="${lx}" y="${MARGIN.top + 64 + i * 16}" font-size="11" fill="#555">${note}</text>`));
  out.push('</g>');
  return out.join('\n');
}

/** A hand-written SVG: one latency-vs-rate panel per ramp workload, stacked. */
export function latencyChartSvg(panels: ChartPanel[]): string {
  const height = HEIGHT * Math.max(panels.length, 1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * HEIGHT)),
    '</svg>',
    '',
  ].join('\n');
}
