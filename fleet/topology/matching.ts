// Maximum-weight matching in a general graph: Edmonds' blossom algorithm with the primal-dual
// method, O(n^3), after Galil's survey and J. van Rantwijk's public-domain reference
// implementation (the one networkx adapted, which the paper's code calls). No JavaScript
// library of the kind fits here: `edmonds-blossom` (a port of the same code) is unmaintained,
// untyped and its weights are assumed integral, and graphology has no weighted matching.
//
// Variable names follow the reference so that the two can be read side by side: vertex
// duals and slacks are doubled, endpoints are numbered 2k and 2k+1 for edge k.

export interface WeightedEdge {
  readonly u: number;
  readonly v: number;
  readonly weight: number;
}

/** mate[v] = vertex matched to v, or -1. With maxCardinality, the heaviest maximum matching. */
export function maxWeightMatching(
  vertexCount: number,
  edges: readonly WeightedEdge[],
  maxCardinality: boolean,
): Int32Array {
  const nvertex = vertexCount;
  const nedge = edges.length;
  const mateOut = new Int32Array(nvertex).fill(-1);
  if (nedge === 0) return mateOut;
  const eu = Int32Array.from(edges, (e) => e.u);
  const ev = Int32Array.from(edges, (e) => e.v);
  const ew = Float64Array.from(edges, (e) => e.weight);
  let maxweight = 0;
  for (const e of edges) {
    if (e.u === e.v || e.u < 0 || e.v < 0 || e.u >= nvertex || e.v >= nvertex) {
      throw new RangeError(`edge ${e.u} - ${e.v} is not between two distinct vertices of 0..${nvertex - 1}`);
    }
    maxweight = Math.max(maxweight, e.weight);
  }
  const endpoint = new Int32Array(2 * nedge);
  for (let p = 0; p < 2 * nedge; p++) endpoint[p] = (p & 1) === 0 ? at(eu, p >> 1) : at(ev, p >> 1);
  const neighbend: number[][] = Array.from({ length: nvertex }, () => []);
  for (let k = 0; k < nedge; k++) {
    neighbend[at(eu, k)]?.push(2 * k + 1);
    neighbend[at(ev, k)]?.push(2 * k);
  }
  const mate = new Int32Array(nvertex).fill(-1);
  const label = new Int32Array(2 * nvertex);
  const labelend = new Int32Array(2 * nvertex).fill(-1);
  const inblossom = Int32Array.from({ length: nvertex }, (_, i) => i);
  const blossomparent = new Int32Array(2 * nvertex).fill(-1);
  const blossomchilds: (number[] | null)[] = new Array<number[] | null>(2 * nvertex).fill(null);
  const blossombase = Int32Array.from({ length: 2 * nvertex }, (_, i) => (i < nvertex ? i : -1));
  const blossomendps: (number[] | null)[] = new Array<number[] | null>(2 * nvertex).fill(null);
  const bestedge = new Int32Array(2 * nvertex).fill(-1);
  const blossombestedges: (number[] | null)[] = new Array<number[] | null>(2 * nvertex).fill(null);
  const unusedblossoms: number[] = [];
  for (let b = nvertex; b < 2 * nvertex; b++) unusedblossoms.push(b);
  const dualvar = Float64Array.from({ length: 2 * nvertex }, (_, i) => (i < nvertex ? maxweight : 0));
  const allowedge = new Uint8Array(nedge);
  let queue: number[] = [];

  const slack = (k: number): number => at(dualvar, at(eu, k)) + at(dualvar, at(ev, k)) - 2 * at(ew, k);
  const children = (b: number): number[] => blossomchilds[b] ?? [];
  const endps = (b: number): number[] => blossomendps[b] ?? [];

  function blossomLeaves(b: number, out: number[] = []): number[] {
    if (b < nvertex) out.push(b);
    else for (const t of children(b)) blossomLeaves(t, out);
    return out;
  }

  function assignLabel(w: number, t: number, p: number): void {
    const b = at(inblossom, w);
    label[w] = label[b] = t;
    labelend[w] = labelend[b] = p;
    bestedge[w] = bestedge[b] = -1;
    if (t === 1) {
      queue.push(...blossomLeaves(b));
    } else if (t === 2) {
      const base = at(blossombase, b);
      assignLabel(at(endpoint, at(mate, base)), 1, at(mate, base) ^ 1);
    }
  }

  function scanBlossom(vStart: number, wStart: number): number {
    let v = vStart;
    let w = wStart;
    const path: number[] = [];
    let base = -1;
    while (v !== -1 || w !== -1) {
      let b = at(inblossom, v);
      if ((at(label, b) & 4) !== 0) {
        base = at(blossombase, b);
        break;
      }
      path.push(b);
      label[b] = 5;
      if (at(labelend, b) === -1) {
        v = -1;
      } else {
        v = at(endpoint, at(labelend, b));
        b = at(inblossom, v);
        v = at(endpoint, at(labelend, b));
      }
      if (w !== -1) [v, w] = [w, v];
    }
    for (const b of path) label[b] = 1;
    return base;
  }

  function addBlossom(base: number, k: number): void {
    let v = at(eu, k);
    let w = at(ev, k);
    const bb = at(inblossom, base);
    let bv = at(inblossom, v);
    let bw = at(inblossom, w);
    const b = unusedblossoms.pop() as number;
    blossombase[b] = base;
    blossomparent[b] = -1;
    blossomparent[bb] = b;
    const path: number[] = [];
    const ends: number[] = [];
    while (bv !== bb) {
      blossomparent[bv] = b;
      path.push(bv);
      ends.push(at(labelend, bv));
      v = at(endpoint, at(labelend, bv));
      bv = at(inblossom, v);
    }
    path.push(bb);
    path.reverse();
    ends.reverse();
    ends.push(2 * k);
    while (bw !== bb) {
      blossomparent[bw] = b;
      path.push(bw);
      ends.push(at(labelend, bw) ^ 1);
      w = at(endpoint, at(labelend, bw));
      bw = at(inblossom, w);
    }
    blossomchilds[b] = path;
    blossomendps[b] = ends;
    label[b] = 1;
    labelend[b] = at(labelend, bb);
    dualvar[b] = 0;
    for (const leaf of blossomLeaves(b)) {
      if (at(label, at(inblossom, leaf)) === 2) queue.push(leaf);
      inblossom[leaf] = b;
    }
    const bestedgeto = new Int32Array(2 * nvertex).fill(-1);
    for (const sub of path) {
      const nblists: number[][] =
        blossombestedges[sub] === null
          ? blossomLeaves(sub).map((leaf) => (neighbend[leaf] ?? []).map((p) => p >> 1))
          : [blossombestedges[sub] ?? []];
      for (const nblist of nblists) {
        for (const edge of nblist) {
          let j = at(ev, edge);
          if (at(inblossom, j) === b) j = at(eu, edge);
          const bj = at(inblossom, j);
          if (
            bj !== b &&
            at(label, bj) === 1 &&
            (at(bestedgeto, bj) === -1 || slack(edge) < slack(at(bestedgeto, bj)))
          ) {
            bestedgeto[bj] = edge;
          }
        }
      }
      blossombestedges[sub] = null;
      bestedge[sub] = -1;
    }
    const best = Array.from(bestedgeto).filter((edge) => edge !== -1);
    blossombestedges[b] = best;
    bestedge[b] = -1;
    for (const edge of best) {
      if (at(bestedge, b) === -1 || slack(edge) < slack(at(bestedge, b))) bestedge[b] = edge;
    }
  }

  function expandBlossom(b: number, endstage: boolean): void {
    for (const s of children(b)) {
      blossomparent[s] = -1;
      if (s < nvertex) inblossom[s] = s;
      else if (endstage && at(dualvar, s) === 0) expandBlossom(s, endstage);
      else for (const leaf of blossomLeaves(s)) inblossom[leaf] = s;
    }
    if (!endstage && at(label, b) === 2) {
      const childs = children(b);
      const bends = endps(b);
      const entrychild = at(inblossom, at(endpoint, at(labelend, b) ^ 1));
      let j = childs.indexOf(entrychild);
      let jstep: number;
      let endptrick: number;
      if ((j & 1) !== 0) {
        j -= childs.length;
        jstep = 1;
        endptrick = 0;
      } else {
        jstep = -1;
        endptrick = 1;
      }
      const child = (i: number): number => childs[i < 0 ? i + childs.length : i] ?? -1;
      const endp = (i: number): number => bends[i < 0 ? i + bends.length : i] ?? -1;
      let p = at(labelend, b);
      while (j !== 0) {
        label[at(endpoint, p ^ 1)] = 0;
        label[at(endpoint, endp(j - endptrick) ^ endptrick ^ 1)] = 0;
        assignLabel(at(endpoint, p ^ 1), 2, p);
        allowedge[endp(j - endptrick) >> 1] = 1;
        j += jstep;
        p = endp(j - endptrick) ^ endptrick;
        allowedge[p >> 1] = 1;
        j += jstep;
      }
      const bv = child(j);
      label[at(endpoint, p ^ 1)] = label[bv] = 2;
      labelend[at(endpoint, p ^ 1)] = labelend[bv] = p;
      bestedge[bv] = -1;
      j += jstep;
      while (child(j) !== entrychild) {
        const sub = child(j);
        if (at(label, sub) === 1) {
          j += jstep;
          continue;
        }
        const reached = blossomLeaves(sub).find((leaf) => at(label, leaf) !== 0);
        if (reached !== undefined) {
          label[reached] = 0;
          label[at(endpoint, at(mate, at(blossombase, sub)))] = 0;
          assignLabel(reached, 2, at(labelend, reached));
        }
        j += jstep;
      }
    }
    label[b] = labelend[b] = -1;
    blossomchilds[b] = blossomendps[b] = null;
    blossombase[b] = -1;
    blossombestedges[b] = null;
    bestedge[b] = -1;
    unusedblossoms.push(b);
  }

  function augmentBlossom(b: number, v: number): void {
    let t = v;
    while (at(blossomparent, t) !== b) t = at(blossomparent, t);
    if (t >= nvertex) augmentBlossom(t, v);
    const childs = children(b);
    const bends = endps(b);
    const child = (i: number): number => childs[i < 0 ? i + childs.length : i] ?? -1;
    const endp = (i: number): number => bends[i < 0 ? i + bends.length : i] ?? -1;
    const i = childs.indexOf(t);
    let j = i;
    let jstep: number;
    let endptrick: number;
    if ((i & 1) !== 0) {
      j -= childs.length;
      jstep = 1;
      endptrick = 0;
    } else {
      jstep = -1;
      endptrick = 1;
    }
    while (j !== 0) {
      j += jstep;
      t = child(j);
      const p = endp(j - endptrick) ^ endptrick;
      if (t >= nvertex) augmentBlossom(t, at(endpoint, p));
      j += jstep;
      t = child(j);
      if (t >= nvertex) augmentBlossom(t, at(endpoint, p ^ 1));
      mate[at(endpoint, p)] = p ^ 1;
      mate[at(endpoint, p ^ 1)] = p;
    }
    blossomchilds[b] = [...childs.slice(i), ...childs.slice(0, i)];
    blossomendps[b] = [...bends.slice(i), ...bends.slice(0, i)];
    blossombase[b] = at(blossombase, children(b)[0] ?? -1);
  }

  function augmentMatching(k: number): void {
    const starts: [number, number][] = [
      [at(eu, k), 2 * k + 1],
      [at(ev, k), 2 * k],
    ];
    for (const [start, remote] of starts) {
      let s = start;
      let p = remote;
      for (;;) {
        const bs = at(inblossom, s);
        if (bs >= nvertex) augmentBlossom(bs, s);
        mate[s] = p;
        if (at(labelend, bs) === -1) break;
        const t = at(endpoint, at(labelend, bs));
        const bt = at(inblossom, t);
        s = at(endpoint, at(labelend, bt));
        const j = at(endpoint, at(labelend, bt) ^ 1);
        if (bt >= nvertex) augmentBlossom(bt, j);
        mate[j] = at(labelend, bt);
        p = at(labelend, bt) ^ 1;
      }
    }
  }

  for (let stage = 0; stage < nvertex; stage++) {
    label.fill(0);
    bestedge.fill(-1);
    for (let b = nvertex; b < 2 * nvertex; b++) blossombestedges[b] = null;
    allowedge.fill(0);
    queue = [];
    for (let v = 0; v < nvertex; v++) {
      if (at(mate, v) === -1 && at(label, at(inblossom, v)) === 0) assignLabel(v, 1, -1);
    }
    let augmented = false;
    for (;;) {
      while (queue.length > 0 && !augmented) {
        const v = queue.pop() as number;
        for (const p of neighbend[v] ?? []) {
          const k = p >> 1;
          const w = at(endpoint, p);
          if (at(inblossom, v) === at(inblossom, w)) continue;
          let kslack = 0;
          if (at(allowedge, k) === 0) {
            kslack = slack(k);
            if (kslack <= 0) allowedge[k] = 1;
          }
          if (at(allowedge, k) === 1) {
            if (at(label, at(inblossom, w)) === 0) {
              assignLabel(w, 2, p ^ 1);
            } else if (at(label, at(inblossom, w)) === 1) {
              const base = scanBlossom(v, w);
              if (base >= 0) {
                addBlossom(base, k);
              } else {
                augmentMatching(k);
                augmented = true;
                break;
              }
            } else if (at(label, w) === 0) {
              label[w] = 2;
              labelend[w] = p ^ 1;
            }
          } else if (at(label, at(inblossom, w)) === 1) {
            const b = at(inblossom, v);
            if (at(bestedge, b) === -1 || kslack < slack(at(bestedge, b))) bestedge[b] = k;
          } else if (at(label, w) === 0) {
            if (at(bestedge, w) === -1 || kslack < slack(at(bestedge, w))) bestedge[w] = k;
          }
        }
      }
      if (augmented) break;

      let deltatype = -1;
      let delta = 0;
      let deltaedge = -1;
      let deltablossom = -1;
      if (!maxCardinality) {
        deltatype = 1;
        delta = Math.min(...dualvar.subarray(0, nvertex));
      }
      for (let v = 0; v < nvertex; v++) {
        if (at(label, at(inblossom, v)) === 0 && at(bestedge, v) !== -1) {
          const d = slack(at(bestedge, v));
          if (deltatype === -1 || d < delta) {
            delta = d;
            deltatype = 2;
            deltaedge = at(bestedge, v);
          }
        }
      }
      for (let b = 0; b < 2 * nvertex; b++) {
        if (at(blossomparent, b) === -1 && at(label, b) === 1 && at(bestedge, b) !== -1) {
          const d = slack(at(bestedge, b)) / 2;
          if (deltatype === -1 || d < delta) {
            delta = d;
            deltatype = 3;
            deltaedge = at(bestedge, b);
          }
        }
      }
      for (let b = nvertex; b < 2 * nvertex; b++) {
        if (
          at(blossombase, b) >= 0 &&
          at(blossomparent, b) === -1 &&
          at(label, b) === 2 &&
          (deltatype === -1 || at(dualvar, b) < delta)
        ) {
          delta = at(dualvar, b);
          deltatype = 4;
          deltablossom = b;
        }
      }
      if (deltatype === -1) {
        deltatype = 1;
        delta = Math.max(0, Math.min(...dualvar.subarray(0, nvertex)));
      }
      for (let v = 0; v < nvertex; v++) {
        const l = at(label, at(inblossom, v));
        if (l === 1) dualvar[v] = at(dualvar, v) - delta;
        else if (l === 2) dualvar[v] = at(dualvar, v) + delta;
      }
      for (let b = nvertex; b < 2 * nvertex; b++) {
        if (at(blossombase, b) >= 0 && at(blossomparent, b) === -1) {
          if (at(label, b) === 1) dualvar[b] = at(dualvar, b) + delta;
          else if (at(label, b) === 2) dualvar[b] = at(dualvar, b) - delta;
        }
      }
      if (deltatype === 1) break;
      if (deltatype === 2) {
        allowedge[deltaedge] = 1;
        let i = at(eu, deltaedge);
        if (at(label, at(inblossom, i)) === 0) i = at(ev, deltaedge);
        queue.push(i);
      } else if (deltatype === 3) {
        allowedge[deltaedge] = 1;
        queue.push(at(eu, deltaedge));
      } else if (deltatype === 4) {
        expandBlossom(deltablossom, false);
      }
    }
    if (!augmented) break;
    for (let b = nvertex; b < 2 * nvertex; b++) {
      if (
        at(blossomparent, b) === -1 &&
        at(blossombase, b) >= 0 &&
        at(label, b) === 1 &&
        at(dualvar, b) === 0
      ) {
        expandBlossom(b, true);
      }
    }
  }
  for (let v = 0; v < nvertex; v++) mateOut[v] = at(mate, v) >= 0 ? at(endpoint, at(mate, v)) : -1;
  return mateOut;
}

/** Minimum-weight perfect matching on the complete graph given by `weight(i, j)`, i < j. */
export function minWeightPerfectMatching(
  count: number,
  weight: (i: number, j: number) => number,
): Int32Array {
  if (count % 2 !== 0) throw new RangeError(`a perfect matching needs an even vertex count, got ${count}`);
  const edges: WeightedEdge[] = [];
  for (let i = 0; i < count; i++)
    for (let j = i + 1; j < count; j++) edges.push({ u: i, v: j, weight: -weight(i, j) });
  return maxWeightMatching(count, edges, true);
}

function at(array: ArrayLike<number>, index: number): number {
  const value = array[index];
  if (value === undefined) throw new RangeError(`index ${index} is outside 0..${array.length - 1}`);
  return value;
}
