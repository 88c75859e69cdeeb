// The tree's dependency rules, checked on every source file: nothing reaches outside the
// repository, shared helpers import nothing from the project, and library folders never import
// the command line (bin/) or the simulator (sim/).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP = new Set(['node_modules', 'out', 'coverage', 'dist', 'build']);

/** Repository-relative paths of the project's own files with one of `extensions`. */
function sourceFiles(extensions: readonly string[], dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(entry.name) || (entry.name.startsWith('.') && entry.name !== '.ci')) continue;
    const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(extensions, rel));
    else if (extensions.some((e) => entry.name.endsWith(e))) out.push(rel);
  }
  return out;
}

const TS_FILES = sourceFiles(['.ts']);

/** Every relative import of a file (static, dynamic and re-exports), repository-relative. */
function projectImports(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );
  return specs.map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

/** `from -> to` for every import of a file under `from` into a file under `to`. */
function importsInto(from: string, to: string): string[] {
  return TS_FILES.filter((f) => f.startsWith(from)).flatMap((f) =>
    projectImports(f)
      .filter((target) => target.startsWith(to))
      .map((target) => `${f} -> ${target}`),
  );
}

describe('layout', () => {
  it('finds the project sources and reads their imports', () => {
    expect(TS_FILES).toContain('common/index.ts');
    expect(projectImports('common/index.ts')).toContain('common/rng.ts');
    expect(importsInto('nodes/record/', 'nodes/runtime/').length).toBeGreaterThan(0);
  });

  it('refers to no folder beside the repository', () => {
    const files = [...sourceFiles(['.ts', '.mjs', '.json', '.yaml', '.xml', '.sh', '.md']), '.ci/run'];
    const beside = ['..', 'shared', ''].join('/'); // spelled apart so this file does not match
    const outside = files.filter((f) => readFileSync(path.join(ROOT, f), 'utf8').includes(beside));
    expect(outside).toEqual([]);
  });

  it('common/ imports nothing from the rest of the project', () => {
    const leaving = TS_FILES.filter((f) => f.startsWith('common/')).flatMap((f) =>
      projectImports(f)
        .filter((target) => !target.startsWith('common/'))
        .map((target) => `${f} -> ${target}`),
    );
    expect(leaving).toEqual([]);
  });

  it.each(['models/', 'nodes/', 'fleet/', 'firmware-bridge/', 'sim/', 'launch/', 'common/'])(
    '%s does not import the command line (bin/)',
    (folder) => {
      expect(importsInto(folder, 'bin/')).toEqual([]);
    },
  );

  // models/cli and models/bench still load simulator frames (train --sim-worlds, quantize, bench
  // precision); until the command line injects them, only the model core is held to this.
  it.each(['models/src/', 'nodes/', 'fleet/', 'firmware-bridge/', 'launch/', 'common/'])(
    '%s does not import the simulator (sim/)',
    (folder) => {
      expect(importsInto(folder, 'sim/')).toEqual([]);
    },
  );
});
