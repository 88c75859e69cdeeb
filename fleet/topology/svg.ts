// A picture of a plan as SVG text (no dependency): on the left the overlay, on the right one
// multigraph state with strong arcs solid, weak arcs dashed and isolated silos marked. Silos
// sit on a circle in ring order, so the ring reads as a circle. Pure.

import type { Fleet } from './fleet.ts';
import type { Multigraph } from './multigraph.ts';
import { isolatedSilos, isStrong } from './multigraph.ts';
import type { Overlay } from './overlays.ts';

export interface PictureOptions {
  readonly fleet: Fleet;
  /** The overlay of the left panel. */
  readonly overlay: Overlay;
  readonly overlayTitle: string;
  /** The multigraph whose state the right panel shows. */
  readonly multigraph: Multigraph;
  readonly state: number;
}

const MARGIN = 70;

/** Panel side: wide enough that neighbours on the circle are ~3 silo radii apart. */
function panelSize(size: number): number {
  return Math.max(560, Math.ceil(size * 9.5));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(size: number, order: readonly number[]): { x: Float64Array; y: Float64Array } {
  const PANEL = panelSize(size);
  const x = new Float64Array(size);
  const y = new Float64Array(size);
  const radius = PANEL / 2 - MARGIN;
  const placed = order.length === size ? order : Array.from({ length: size }, (_, i) => i);
  placed.forEach((silo, i) => {
    const angle = (2 * Math.PI * i) / size - Math.PI / 2;
    x[silo] = PANEL / 2 + radius * Math.cos(angle);
    y[silo] = PANEL / 2 + 20 + radius * Math.sin(angle);
  });
  return { x, y };
}

function arcLine(x: Float64Array, y: Float64Array, from: number, to: number, attributes: string): string {
  const [x1, y1, x2, y2] = [x[from] ?? 0, y[from] ?? 0, x[to] ?? 0, y[to] ?? 0];
  const length = Math.hypot(x2 - x1, y2 - y1) || 1;
  // Stop short of the circles so that arrowheads stay visible.
  const shrink = Math.min(7 / length, 0.45);
  const f = (a: number, b: number, t: number): string => (a + (b - a) * t).toFixed(1);
  return `<line x1="${f(x1, x2, shrink)}" y1="${f(y1, y2, shrink)}" x2="${f(x1, x2, 1 - shrink)}" y2="${f(y1, y2, 1 - shrink)}" ${attributes}/>`;
}

function silos(fleet: Fleet, x: Float64Array, y: Float64Array, isolated: ReadonlySet<number>): string[] {
  const radius = fleet.size > 60 ? 5 : 9;
  const font = fleet.size > 60 ? 5 : 9;
  return Array.from({ length: fleet.size }, (_, v) => {
    const fill = isolated.has(v) ? '#d62728' : '#ffffff';
    const text = isolated.has(v) ? '#ffffff' : '#222222';
    const title = `<title>${v}: ${escapeXml(fleet.names[v] ?? '')}${isolated.has(v) ? ' (isolated)' : ''}</title>`;
    return (
      `<g>${title}<circle cx="${(x[v] ?? 0).toFixed(1)}" cy="${(y[v] ?? 0).toFixed(1)}" r="${radius}" fill="${fill}" stroke="#222222"/>` +
      `<text x="${(x[v] ?? 0).toFixed(1)}" y="${((y[v] ?? 0) + font / 3).toFixed(1)}" font-size="${font}" text-anchor="middle" fill="${text}">${v}</text></g>`
    );
  });
}

export function renderPlanSvg(options: PictureOptions): string {
  const { fleet, overlay, multigraph, state } = options;
  const PANEL = panelSize(fleet.size);
  const order = multigraph.overlay.order ?? overlay.order ?? [];
  const { x, y } = layout(fleet.size, order);
  const isolated = new Set(isolatedSilos(multigraph, state));
  const left: string[] = overlay.arcs.map((arc) =>
    arcLine(x, y, arc.from, arc.to, 'stroke="#1f77b4" stroke-width="1.5" marker-end="url(#arrow)"'),
  );
  if (overlay.kind === 'ring') {
    overlay.arcs.forEach((arc, e) => {
      const n = overlay === multigraph.overlay ? multigraph.multiplicity[e] : undefined;
      if (n === undefined || n === 1) return;
      const mx = ((x[arc.from] ?? 0) + (x[arc.to] ?? 0)) / 2;
      const my = ((y[arc.from] ?? 0) + (y[arc.to] ?? 0)) / 2;
      left.push(`<text x="${mx.toFixed(1)}" y="${my.toFixed(1)}" font-size="9" fill="#555555">×${n}</text>`);
    });
  }
  const right = multigraph.overlay.arcs.map((arc, e) =>
    isStrong(multigraph, e, state)
      ? arcLine(x, y, arc.from, arc.to, 'stroke="#222222" stroke-width="2" marker-end="url(#arrow-strong)"')
      : arcLine(x, y, arc.from, arc.to, 'stroke="#aaaaaa" stroke-width="1" stroke-dasharray="4 3"'),
  );
  const heading = (text: string, dx: number): string =>
    `<text x="${dx + PANEL / 2}" y="24" font-size="14" text-anchor="middle" font-weight="bold">${escapeXml(text)}</text>`;
  const stateTitle = `multigraph state ${state} of ${multigraph.stateCount}: ${isolated.size} isolated`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * PANEL}" height="${PANEL + 40}" viewBox="0 0 ${2 * PANEL} ${PANEL + 40}" font-family="sans-serif">`,
    '<defs>',
    '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1f77b4"/></marker>',
    '<marker id="arrow-strong" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#222222"/></marker>',
    '</defs>',
    `<rect width="${2 * PANEL}" height="${PANEL + 40}" fill="#ffffff"/>`,
    heading(options.overlayTitle, 0),
    `<g>${left.join('')}${silos(fleet, x, y, new Set()).join('')}</g>`,
    heading(stateTitle, PANEL),
    `<g transform="translate(${PANEL} 0)">${right.join('')}${silos(fleet, x, y, isolated).join('')}</g>`,
    `<text x="${PANEL + 12}" y="${PANEL + 30}" font-size="11" fill="#555555">solid: strong arc, dashed: weak arc, red: isolated silo (averages with nobody this round)</text>`,
    '</svg>',
    '',
  ].join('\n');
}
