/* global document, EventSource, fetch, setTimeout */
// The dashboard page: a snapshot first (GET /api/snapshot), then live updates over Server-Sent
// Events (/events): one `robot` event per robot message, `overlay` when the plan or round
// changes. Plain DOM and SVG, no framework and nothing fetched from elsewhere, so it works on a
// lab network without the internet. Every value is set as text, never as markup.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const PLOT = { width: 480, height: 200, left: 44, right: 8, top: 10, bottom: 22 };
/** Labels and the link list stay readable up to this many robots; beyond, the drawing alone. */
const LABEL_LIMIT = 24;
const LINK_LIST_LIMIT = 60;

const state = { fleet: '', robots: new Map(), overlay: null, pending: false };

const $ = (id) => document.getElementById(id);

function el(name, attrs = {}, text) {
  const node = name.startsWith('svg:')
    ? document.createElementNS(SVG, name.slice(4))
    : document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const fixed = (v, digits) => (v === null || v === undefined ? '–' : v.toFixed(digits));

function ago(ms) {
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 60 ? `${s.toFixed(0)} s ago` : `${(s / 60).toFixed(0)} min ago`;
}

function colour(i, n) {
  return `hsl(${Math.round((360 * i) / Math.max(1, n))} 65% 42%)`;
}

function renderTable(robots) {
  const body = $('robots').tBodies[0];
  const rows = robots.map((r) => {
    const t = r.telemetry;
    const inf = t && t.inference;
    const tr = el('tr', { 'data-robot': r.robot });
    const online = r.online === null ? '?' : r.online ? 'online' : 'offline';
    const ota = r.ota ? [r.ota.state, r.ota.version].filter((x) => x !== null).join(' ') || '?' : '–';
    const cells = [
      [r.robot, ''],
      [online, r.online === null ? '' : r.online ? 'online' : 'offline'],
      [inf ? inf.modelVersion : '–', ''],
      [ota, ''],
      [fixed(inf && inf.fps, 1), 'num'],
      [fixed(inf && inf.latencyP50Ms, 2), 'num'],
      [fixed(inf && inf.latencyP99Ms, 2), 'num'],
      [
        t && t.watchdog
          ? t.watchdog.state + (t.watchdog.stops > 0 ? ` (${t.watchdog.stops} stops)` : '')
          : '–',
        '',
      ],
      [t && t.training ? String(t.training.round) : '–', 'num'],
      [fixed(t && t.training && t.training.loss, 4), 'num'],
      [
        t && t.battery && t.battery.fraction !== null ? `${Math.round(t.battery.fraction * 100)}%` : '–',
        'num',
      ],
      [t ? `${Math.round(t.system.cpuLoad * 100)}%` : '–', 'num'],
      [ago(r.lastSeen), 'num'],
    ];
    for (const [text, cls] of cells) tr.append(el('td', cls ? { class: cls } : {}, text));
    return tr;
  });
  body.replaceChildren(...rows);
}

/** One line per robot over the window of its kept history; y from 0 to the largest value shown. */
function renderPlot(svg, robots, pick, digits) {
  const lines = robots.map((r) => r.history.filter((h) => pick(h) !== null));
  const all = lines.flat();
  svg.replaceChildren();
  const { width, height, left, right, top, bottom } = PLOT;
  if (all.length === 0) {
    svg.append(el('svg:text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'no data yet'));
    return;
  }
  const t1 = Math.max(...all.map((h) => h.at));
  const t0 = Math.min(...all.map((h) => h.at));
  const span = Math.max(1000, t1 - t0);
  const ymax = Math.max(...all.map(pick)) * 1.1 || 1;
  const x = (at) => left + ((at - t0) / span) * (width - left - right);
  const y = (v) => top + (1 - v / ymax) * (height - top - bottom);
  svg.append(
    el('svg:line', { x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: '#d8dee4' }),
    el('svg:line', { x1: left, y1: top, x2: left, y2: y(0), stroke: '#d8dee4' }),
    el('svg:text', { x: left - 4, y: top + 8, 'text-anchor': 'end', 'font-size': 10 }, ymax.toFixed(digits)),
    el('svg:text', { x: left - 4, y: y(0), 'text-anchor': 'end', 'font-size': 10 }, '0'),
    el('svg:text', { x: left, y: height - 6, 'font-size': 10 }, `-${Math.round(span / 1000)} s`),
    el('svg:text', { x: width - right, y: height - 6, 'text-anchor': 'end', 'font-size': 10 }, 'now'),
  );
  lines.forEach((points, i) => {
    if (points.length === 0) return;
    const d = points.map((h) => `${x(h.at).toFixed(1)},${y(pick(h)).toFixed(1)}`).join(' ');
    svg.append(
      el('svg:polyline', {
        points: d,
        fill: 'none',
        stroke: colour(i, robots.length),
        'stroke-width': robots.length > LABEL_LIMIT ? 0.6 : 1.5,
        'data-robot': robots[i].robot,
      }),
    );
  });
}

function renderLegend(robots) {
  const legend = $('plot-legend');
  if (robots.length > LABEL_LIMIT) {
    legend.replaceChildren(el('span', {}, `${robots.length} robots, one line each`));
    return;
  }
  legend.replaceChildren(
    ...robots.map((r, i) => el('span', { style: `color: ${colour(i, robots.length)}` }, `— ${r.robot}`)),
  );
}

function renderOverlay(overlay) {
  const svg = $('overlay');
  svg.replaceChildren();
  const list = $('links');
  list.replaceChildren();
  if (overlay === null) {
    $('overlay-round').textContent = '';
    $('overlay-source').textContent = 'no plan yet (fewer than two robots seen, no plan file, no live plan)';
    return;
  }
  $('overlay-round').textContent = `round ${overlay.round}`;
  $('overlay-source').textContent = overlay.source;
  const at = new Map(overlay.nodes.map((n) => [n.id, n]));
  const labels = overlay.nodes.length <= LABEL_LIMIT;
  const r = labels ? 0.06 : 0.02;
  const defs = el('svg:defs');
  for (const s of ['strong', 'weak']) {
    const marker = el('svg:marker', {
      id: `arrow-${s}`,
      viewBox: '0 0 10 10',
      refX: 10,
      refY: 5,
      markerWidth: 5,
      markerHeight: 5,
      orient: 'auto-start-reverse',
    });
    marker.append(
      el('svg:path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: s === 'strong' ? '#0969da' : '#a0aab4' }),
    );
    defs.append(marker);
  }
  svg.append(defs);
  for (const link of overlay.links) {
    const a = at.get(link.from);
    const b = at.get(link.to);
    if (!a || !b) continue;
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy) || 1;
    // Shorten to the circles' edges and bend slightly so both directions of a pair stay visible.
    const ux = dx / len;
    const uy = dy / len;
    const x1 = a.x + ux * r;
    const y1 = a.y + uy * r;
    const x2 = b.x - ux * r;
    const y2 = b.y - uy * r;
    const cx = (x1 + x2) / 2 - uy * 0.08;
    const cy = (y1 + y2) / 2 + ux * 0.08;
    svg.append(
      el('svg:path', {
        d: `M ${x1} ${y1} Q ${cx} ${cy} ${x2} ${y2}`,
        fill: 'none',
        stroke: link.state === 'strong' ? '#0969da' : '#a0aab4',
        'stroke-width': link.state === 'strong' ? 0.018 : 0.01,
        'stroke-dasharray': link.state === 'strong' ? 'none' : '0.04 0.03',
        'marker-end': `url(#arrow-${link.state})`,
        class: `link ${link.state}`,
        'data-from': link.from,
        'data-to': link.to,
      }),
    );
  }
  for (const n of overlay.nodes) {
    const robot = state.robots.get(n.id);
    const online = robot ? robot.online : null;
    svg.append(
      el('svg:circle', {
        cx: n.x,
        cy: n.y,
        r,
        fill: online === false ? '#cf222e' : online === true ? '#1a7f37' : '#65717e',
        'data-robot': n.id,
      }),
    );
    if (labels) {
      const outward = 1 + 0.2;
      svg.append(
        el(
          'svg:text',
          { x: n.x * outward, y: n.y * outward + 0.03, 'text-anchor': 'middle', 'font-size': 0.09 },
          n.id,
        ),
      );
    }
  }
  const shown = overlay.links.slice(0, LINK_LIST_LIMIT);
  for (const link of shown) {
    list.append(el('li', { class: link.state }, `${link.from} → ${link.to} ${link.state}`));
  }
  if (overlay.links.length > shown.length) {
    list.append(el('li', {}, `and ${overlay.links.length - shown.length} more links`));
  }
}

function render() {
  state.pending = false;
  const robots = [...state.robots.values()].sort((a, b) =>
    a.robot.localeCompare(b.robot, 'en', { numeric: true }),
  );
  const online = robots.filter((r) => r.online === true).length;
  $('fleet').textContent = state.fleet;
  const round = state.overlay ? `, round ${state.overlay.round}` : '';
  $('summary').textContent = `${robots.length} robots, ${online} online${round}`;
  renderTable(robots);
  renderPlot($('latency-plot'), robots, (h) => h.p99Ms, 1);
  renderPlot($('loss-plot'), robots, (h) => h.loss, 3);
  renderLegend(robots);
  renderOverlay(state.overlay);
}

/** Redraws at most four times a second however many robots report. */
function schedule() {
  if (state.pending) return;
  state.pending = true;
  setTimeout(render, 250);
}

function applySnapshot(snapshot) {
  state.fleet = snapshot.fleet;
  state.robots = new Map(snapshot.robots.map((r) => [r.robot, r]));
  state.overlay = snapshot.overlay;
  schedule();
}

async function start() {
  applySnapshot(await (await fetch('/api/snapshot')).json());
  render();
  const events = new EventSource('/events');
  events.addEventListener('open', () => ($('connection').textContent = 'live'));
  events.addEventListener('error', () => ($('connection').textContent = 'reconnecting…'));
  events.addEventListener('snapshot', (e) => applySnapshot(JSON.parse(e.data)));
  events.addEventListener('robot', (e) => {
    const robot = JSON.parse(e.data);
    state.robots.set(robot.robot, robot);
    schedule();
  });
  events.addEventListener('overlay', (e) => {
    state.overlay = JSON.parse(e.data);
    schedule();
  });
}

start().catch((error) => {
  $('connection').textContent = `error: ${error.message}`;
});
