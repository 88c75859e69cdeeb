// The simulation's picture: held-out RMSE of the silos' average model against rounds (left) and
// against wall-clock seconds (right), one line per run so several topologies can share a plot.
// The chart is an SVG string (pure); pngFromSvg rasterises it with sharp, as sim/picture.ts
// writes its PNGs.

import sharp from 'sharp';

export interface CurvePoint {
  readonly round: number;
  readonly wallS: number;
  readonly rmse: number;
}

export interface Curve {
  readonly label: string;
  readonly points: readonly CurvePoint[];
}

const WIDTH = 960;
const HEIGHT = 400;
const PANEL = { left: 60, top: 40, width: 380, height: 300 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function ticks(max: number, count = 5): number[] {
  const step = max / count;
  return Array.from({ length: count + 1 }, (_, i) => i * step);
}

function panel(
  curves: readonly Curve[],
  x: (p: CurvePoint) => number,
  xLabel: string,
  offsetX: number,
  yMax: number,
): string {
  const xMax = Math.max(1e-9, ...curves.flatMap((c) => c.points.map(x)));
  const px = (v: number): number => offsetX + PANEL.left + (v / xMax) * PANEL.width;
  const py = (v: number): number => PANEL.top + PANEL.height - (v / yMax) * PANEL.height;
  const parts: string[] = [
    `<rect x="${offsetX + PANEL.left}" y="${PANEL.top}" width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#444"/>`,
  ];
  for (const t of ticks(xMax)) {
    parts.push(
      `<text x="${px(t).toFixed(1)}" y="${PANEL.top + PANEL.height + 16}" font-size="11" text-anchor="middle">${Number(t.toPrecision(3))}</text>`,
    );
  }
  for (const t of ticks(yMax)) {
    parts.push(
      `<text x="${offsetX + PANEL.left - 6}" y="${(py(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${Number(t.toPrecision(3))}</text>`,
      `<line x1="${offsetX + PANEL.left}" x2="${offsetX + PANEL.left + PANEL.width}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#ddd"/>`,
    );
  }
  parts.push(
    `<text x="${offsetX + PANEL.left + PANEL.width / 2}" y="${PANEL.top + PANEL.height + 34}" font-size="12" text-anchor="middle">${escape(xLabel)}</text>`,
  );
  curves.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const path = c.points.map((p) => `${px(x(p)).toFixed(1)},${py(p.rmse).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of c.points) {
      parts.push(
        `<circle cx="${px(x(p)).toFixed(1)}" cy="${py(p.rmse).toFixed(1)}" r="2.5" fill="${colour}"/>`,
      );
    }
  });
  return parts.join('\n');
}

/** Both panels and a legend; `title` goes on top. */
export function rmseChartSvg(title: string, curves: readonly Curve[]): string {
  const yMax = Math.max(1e-9, ...curves.flatMap((c) => c.points.map((p) => p.rmse))) * 1.05;
  const legend = curves
    .map(
      (c, i) =>
        `<text x="${70 + i * 150}" y="${HEIGHT - 12}" font-size="12" fill="${COLOURS[i % COLOURS.length]}">&#9632; ${escape(c.label)}</text>`,
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" font-size="14" text-anchor="middle">${escape(title)}</text>`,
    `<text x="16" y="${PANEL.top + PANEL.height / 2}" font-size="12" transform="rotate(-90 16 ${PANEL.top + PANEL.height / 2})" text-anchor="middle">held-out RMSE</text>`,
    panel(curves, (p) => p.round, 'round', 0, yMax),
    panel(curves, (p) => p.wallS, 'wall-clock (s)', WIDTH / 2, yMax),
    legend,
    '</svg>',
  ].join('\n');
}

export async function pngFromSvg(svg: string, file: string): Promise<void> {
  await sharp(Buffer.from(svg)).png().toFile(file);
}
