// Every launch file parses, names only executables that exist, and points at params files
// that the nodes accept; the XML and YAML forms describe the same launch.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { NODE_NAMES } from '../../bin/cli.ts';
import { parametersFromYaml, resolveParameters, type ParamDecls } from '../../nodes/runtime/index.ts';
import { STEERING_PARAMS } from '../../nodes/steering/params.ts';
import { BRIDGE_PARAMS } from '../../firmware-bridge/params.ts';
import { SILO_PARAMS } from '../../fleet/silo/params.ts';
import { TELEMETRY_PARAMS } from '../../fleet/telemetry/params.ts';
import { OTA_PARAMS } from '../../fleet/ota/params.ts';

const LAUNCH = path.resolve('launch');
const PACKAGE = 'fadnet_edge';

/** Executables of other ROS 2 packages our launch files may start (from their own install trees). */
const EXTERNAL: Readonly<Record<string, readonly string[]>> = {
  realsense2_camera: ['realsense2_camera_node'],
  ros_gz_bridge: ['parameter_bridge'],
  ros_gz_sim: ['create'],
  carla_ros_bridge: ['bridge'],
  carla_spawn_objects: ['carla_spawn_objects'],
  carla_twist_to_control: ['carla_twist_to_control'],
  foxglove_bridge: ['foxglove_bridge'],
};

/** Launch files of other packages our launch files may include. */
const EXTERNAL_INCLUDES: Readonly<Record<string, readonly string[]>> = {
  ros_gz_sim: ['launch/gz_sim.launch.py'],
  carla_ros_bridge: ['carla_ros_bridge.launch.py'],
  realsense2_camera: ['launch/rs_launch.py'],
};

/** Where files of our installed share directory come from in the checkout (CMakeLists.txt installs them). */
function shareToCheckout(rel: string): string {
  if (rel.startsWith('launch/')) return path.join(LAUNCH, rel.slice('launch/'.length));
  if (rel.startsWith('sim/gazebo/') || rel.startsWith('sim/carla/')) return path.resolve(rel);
  return path.resolve('<not installed>', rel);
}

/** Parameter declarations of our executables, so params files are validated as the node would. */
const PARAMS_OF: Readonly<Record<string, { node: string; decls: ParamDecls }>> = {
  steering_node: { node: 'fadnet_steering', decls: STEERING_PARAMS },
  bridge_node: { node: 'motor_bridge', decls: BRIDGE_PARAMS },
  silo_node: { node: 'fadnet_silo', decls: SILO_PARAMS },
  telemetry_node: { node: 'fadnet_telemetry', decls: TELEMETRY_PARAMS },
  ota_node: { node: 'fadnet_ota', decls: OTA_PARAMS },
};

interface LaunchNode {
  pkg: string;
  exec: string;
  name: string;
  paramFiles: string[];
}

function ourExecutables(): Map<string, string> {
  const cmake = readFileSync(path.join(LAUNCH, 'ros2_package/CMakeLists.txt'), 'utf8');
  const block = /set\(FADNET_EXECUTABLES([^)]*)\)/.exec(cmake)?.[1] ?? '';
  return new Map(
    block
      .split(/\s+/)
      .filter((s) => s.includes(':'))
      .map((s) => s.split(':') as [string, string]),
  );
}

function substitute(value: string, args: Record<string, string>): string {
  return value
    .replace(/\$\(var ([\w.]+)\)/g, (_, n: string) => args[n] ?? `<unset ${n}>`)
    .replace(/\$\(find-pkg-share ([\w]+)\)/g, (_, pkg: string) =>
      pkg === PACKAGE ? '<share>' : `<share:${pkg}>`,
    );
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function xmlNodes(file: string): LaunchNode[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
    readFileSync(file, 'utf8'),
  ) as {
    launch: { arg?: unknown; node?: unknown };
  };
  const args: Record<string, string> = {};
  for (const a of asArray(doc.launch.arg as { name: string; default?: string }[]))
    args[a.name] = a.default ?? '';
  return asArray(doc.launch.node as Record<string, unknown>[]).map((n) => ({
    pkg: String(n['pkg']),
    exec: String(n['exec']),
    name: substitute(String(n['name']), args),
    paramFiles: asArray(n['param'] as { from?: string }[])
      .filter((p) => p.from !== undefined)
      .map((p) => substitute(p.from!, args)),
  }));
}

function yamlNodes(file: string): LaunchNode[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { launch: Record<string, Record<string, unknown>>[] };
  const args: Record<string, string> = {};
  for (const e of doc.launch)
    if (e['arg']) args[String(e['arg']['name'])] = String(e['arg']['default'] ?? '');
  return doc.launch
    .filter((e) => e['node'] !== undefined)
    .map((e) => e['node']!)
    .map((n) => ({
      pkg: String(n['pkg']),
      exec: String(n['exec']),
      name: substitute(String(n['name']), args),
      paramFiles: asArray(n['param'] as { from?: string }[])
        .filter((p) => p.from !== undefined)
        .map((p) => substitute(p.from!, args)),
    }));
}

const launchFiles = readdirSync(LAUNCH).filter((f) => /\.launch\.(xml|yaml)$/.test(f));

describe('launch files', () => {
  it('exist as XML and YAML pairs', () => {
    expect(launchFiles.length).toBeGreaterThan(0);
    for (const f of launchFiles.filter((x) => x.endsWith('.xml'))) {
      expect(launchFiles, `${f} has no YAML twin`).toContain(f.replace(/\.xml$/, '.yaml'));
    }
  });

  for (const file of launchFiles) {
    it(`${file}: parses and names only executables that exist`, () => {
      const nodes = file.endsWith('.xml')
        ? xmlNodes(path.join(LAUNCH, file))
        : yamlNodes(path.join(LAUNCH, file));
      expect(nodes.length).toBeGreaterThan(0);
      const ours = ourExecutables();
      for (const n of nodes) {
        if (n.pkg === PACKAGE) {
          const sub = ours.get(n.exec);
          expect(
            sub,
            `${file}: ${n.exec} is not installed by launch/ros2_package/CMakeLists.txt`,
          ).toBeDefined();
          expect(
            NODE_NAMES,
            `${file}: ${n.exec} maps to "fadnet node ${sub}", which the CLI lacks`,
          ).toContain(sub);
        } else {
          expect(EXTERNAL[n.pkg] ?? [], `${file}: unknown executable ${n.pkg}/${n.exec}`).toContain(n.exec);
        }
        for (const from of n.paramFiles) {
          expect(
            from.startsWith('<share>/launch/'),
            `${file}: params file ${from} is not in this package`,
          ).toBe(true);
          const local = path.join(LAUNCH, from.slice('<share>/launch/'.length));
          expect(existsSync(local), `${file}: ${local} missing`).toBe(true);
          const spec = PARAMS_OF[n.exec];
          if (spec !== undefined) {
            // The node would refuse to start on a bad value: so does this test.
            resolveParameters(spec.node, spec.decls, [
              { name: from, values: parametersFromYaml(readFileSync(local, 'utf8'), n.name, from) },
            ]);
          }
        }
      }
    });
  }

  for (const file of launchFiles) {
    it(`${file}: every file it names from this package is installed, every include is known`, () => {
      const text = readFileSync(path.join(LAUNCH, file), 'utf8');
      for (const m of text.matchAll(/\$\(find-pkg-share (\w+)\)\/([\w./-]+)/g)) {
        const [, pkg, rel] = m as unknown as [string, string, string];
        if (pkg === PACKAGE) {
          expect(existsSync(shareToCheckout(rel)), `${file}: ${rel} is not in the package`).toBe(true);
        } else {
          expect(EXTERNAL_INCLUDES[pkg] ?? [], `${file}: unknown file ${pkg}/${rel}`).toContain(rel);
        }
      }
    });
  }

  // Params files a launch is given by argument (robot.launch.xml params_file:=...), such as the
  // per-platform rb5.yaml and jetson.yaml, are checked like the ones launch files name.
  for (const file of readdirSync(path.join(LAUNCH, 'params')).filter((f) => f.endsWith('.yaml'))) {
    it(`params/${file}: every node section is valid for the node it configures`, () => {
      const text = readFileSync(path.join(LAUNCH, 'params', file), 'utf8');
      for (const spec of Object.values(PARAMS_OF)) {
        resolveParameters(spec.node, spec.decls, [
          { name: file, values: parametersFromYaml(text, spec.node, file) },
        ]);
      }
    });
  }

  it('XML and YAML twins launch the same nodes', () => {
    for (const f of launchFiles.filter((x) => x.endsWith('.xml'))) {
      const twin = f.replace(/\.xml$/, '.yaml');
      expect(yamlNodes(path.join(LAUNCH, twin))).toEqual(xmlNodes(path.join(LAUNCH, f)));
    }
  });

  it('the ROS 2 package installs a wrapper for every executable', () => {
    const pkg = new XMLParser().parse(
      readFileSync(path.join(LAUNCH, 'ros2_package/package.xml'), 'utf8'),
    ) as {
      package: { name: string };
    };
    expect(pkg.package.name).toBe(PACKAGE);
    const template = readFileSync(path.join(LAUNCH, 'ros2_package/scripts/node.sh.in'), 'utf8');
    expect(template).toContain('bin/fadnet.mjs" node @FADNET_NODE@ "$@"');
    expect(ourExecutables().size).toBeGreaterThan(0);
  });
});
