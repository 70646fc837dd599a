/**
 * Captures real outputs of this machine's iptables and iproute2 as golden fixtures (run once, as root):
 *   npx tsx scripts/capture-fixtures.ts
 * Everything happens inside throwaway network namespaces named ldparse-<pid>-*, deleted at the end even on
 * failure. No packet leaves them: the namespaces have no route out. Commands run without a shell.
 * Each fixture gets a .meta.json with the exact command and tool version; expectations are written by the
 * golden test (UPDATE_GOLDEN=1).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../test/fixtures/', import.meta.url).pathname;
const inputs = new URL('./capture/', import.meta.url).pathname;
const ns1 = `ldparse-${process.pid}-a`;
const ns2 = `ldparse-${process.pid}-b`;

function run(argv: string[], input?: string): string {
  return execFileSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}
/** stdout then stderr, as a terminal shows a command that warns at the end (iptables-save's legacy warning). */
function runMerged(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout + r.stderr;
}
const inNs = (ns: string, argv: string[], input?: string): string =>
  run(['ip', 'netns', 'exec', ns, ...argv], input);
const rules = (file: string): string =>
  readFileSync(join(inputs, file), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

const iptablesVersion = run(['iptables', '--version']).trim();
const ipVersion = run(['ip', '-V']).trim();
const ifconfigVersion = (() => {
  try {
    return run(['ifconfig', '--version']).trim() || 'net-tools ifconfig';
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? 'net-tools ifconfig').trim();
  }
})();

function save(
  kind: string,
  name: string,
  text: string,
  command: string,
  version: string,
  note?: string,
): void {
  mkdirSync(join(root, kind), { recursive: true });
  writeFileSync(join(root, kind, `${name}.txt`), text);
  const meta = {
    origin: `captured on this machine with \`${command}\` (${version}) inside a throwaway network namespace by scripts/capture-fixtures.ts`,
    command,
    ...(note ? { note } : {}),
  };
  writeFileSync(join(root, kind, `${name}.meta.json`), JSON.stringify(meta, null, 2) + '\n');
  console.log(`${kind}/${name}.txt  ${text.split('\n').length - 1} lines`);
}

/** Dates in iptables-save headers change every run: fix them so re-capturing gives a reviewable diff. */
const stableDate = (s: string): string =>
  s.replace(/ on \w{3} \w{3} +\d+ [\d:]+ \d{4}$/gm, ' on Sat Nov 28 00:00:00 2026');

// --- kubectl: client-side dry runs need no API server; KUBECONFIG points nowhere so nothing is contacted ---
const kubectl = (args: string[]): string =>
  execFileSync('kubectl', args, {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: '/nonexistent' },
    timeout: 60_000,
  });
const kubectlVersion = kubectl(['version', '--client']).split('\n')[0]!.trim();
const svcArgs = ['create', 'service', 'nodeport', 'kuard', '--tcp=80:8080', '--dry-run=client'];
const deployArgs = [
  'create',
  'deployment',
  'kuard',
  '--image=gcr.io/kuar-demo/kuard-amd64:1',
  '--replicas=3',
  '--dry-run=client',
];
save(
  'kubectl-object',
  'captured-create-service-nodeport-yaml',
  kubectl([...svcArgs, '-o', 'yaml']),
  `kubectl ${svcArgs.join(' ')} -o yaml`,
  kubectlVersion,
);
save(
  'kubectl-object',
  'captured-create-deployment-json',
  kubectl([...deployArgs, '-o', 'json']),
  `kubectl ${deployArgs.join(' ')} -o json`,
  kubectlVersion,
);
save(
  'kubectl-name',
  'captured-create-deployment-name',
  kubectl([...deployArgs, '-o', 'name']),
  `kubectl ${deployArgs.join(' ')} -o name`,
  kubectlVersion,
);
save(
  'kubectl-action',
  'captured-create-deployment',
  kubectl(deployArgs),
  `kubectl ${deployArgs.join(' ')}`,
  kubectlVersion,
);
const multiArgs = [
  'create',
  'service',
  'clusterip',
  'kuard',
  '--tcp=80:8080',
  '--tcp=443:8443',
  '--dry-run=client',
];
save(
  'kubectl-jsonpath',
  'captured-service-ports-jsonpath',
  kubectl([...multiArgs, '-o', 'jsonpath={.spec.ports[*].port}']),
  `kubectl ${multiArgs.join(' ')} -o jsonpath='{.spec.ports[*].port}'`,
  kubectlVersion,
  'kubectl prints no newline after jsonpath output',
);

run(['ip', 'netns', 'add', ns1]);
run(['ip', 'netns', 'add', ns2]);
try {
  // --- iptables: the current kube-proxy format ---
  inNs(ns1, ['iptables-restore'], rules('kube-proxy-current.rules'));
  save(
    'iptables-save',
    'captured-kube-proxy-current',
    stableDate(inNs(ns1, ['iptables-save'])),
    'iptables-save',
    iptablesVersion,
  );
  save(
    'iptables-save',
    'captured-kube-proxy-current-counters',
    stableDate(inNs(ns1, ['iptables-save', '-c', '-t', 'nat'])),
    'iptables-save -c -t nat',
    iptablesVersion,
  );
  save(
    'iptables-save',
    'captured-nat-S',
    inNs(ns1, ['iptables', '-t', 'nat', '-S']),
    'iptables -t nat -S',
    iptablesVersion,
    '`-S` prints -P/-N/-A lines',
  );
  save(
    'iptables-list',
    'captured-filter-L-n-v-line-numbers',
    inNs(ns1, ['iptables', '-L', '-n', '-v', '--line-numbers']),
    'iptables -L -n -v --line-numbers',
    iptablesVersion,
  );
  save(
    'iptables-list',
    'captured-nat-L',
    inNs(ns1, ['iptables', '-t', 'nat', '-L']),
    'iptables -t nat -L',
    iptablesVersion,
    'without -n: names where iptables could resolve them (no resolver is reachable from the namespace)',
  );
  save(
    'iptables-list',
    'captured-nat-L-n-v-x',
    inNs(ns1, ['iptables', '-t', 'nat', '-L', '-n', '-v', '-x']),
    'iptables -t nat -L -n -v -x',
    iptablesVersion,
  );
  // legacy tables beside nf_tables: iptables-save warns
  inNs(ns1, ['iptables-legacy', '-A', 'INPUT', '-s', '192.0.2.1/32', '-j', 'ACCEPT']);
  save(
    'iptables-save',
    'captured-legacy-tables-warning',
    stableDate(runMerged(['ip', 'netns', 'exec', ns1, 'iptables-save', '-t', 'filter'])),
    'iptables-save -t filter',
    iptablesVersion,
    'a legacy rule was added with iptables-legacy first; iptables-save prints the warning on stderr, appended here as a terminal shows it',
  );
  save(
    'iptables-save',
    'captured-legacy-save',
    stableDate(inNs(ns1, ['iptables-legacy-save'])),
    'iptables-legacy-save',
    run(['iptables-legacy', '--version']).trim(),
  );

  // --- iptables: the 2019 format of the seed, with KUBE-XLB ---
  inNs(ns2, ['iptables-restore'], rules('kube-proxy-2019-xlb.rules'));
  save(
    'iptables-save',
    'captured-kube-proxy-2019-xlb',
    stableDate(inNs(ns2, ['iptables-save', '-t', 'nat'])),
    'iptables-save -t nat',
    iptablesVersion,
  );

  // --- addresses and routes: a veth pair between the two namespaces ---
  run(['ip', '-n', ns1, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', ns2]);
  run(['ip', '-n', ns1, 'addr', 'add', '10.244.1.5/24', 'dev', 'eth0']);
  run(['ip', '-n', ns1, 'link', 'set', 'eth0', 'address', '4e:c8:47:58:df:76']);
  run(['ip', '-n', ns1, 'link', 'set', 'lo', 'up']);
  run(['ip', '-n', ns1, 'link', 'set', 'eth0', 'up']);
  run(['ip', '-n', ns2, 'addr', 'add', '10.244.1.1/24', 'dev', 'veth1']);
  run(['ip', '-n', ns2, 'link', 'set', 'veth1', 'up']);
  run(['ip', '-n', ns1, 'route', 'add', 'default', 'via', '10.244.1.1', 'dev', 'eth0']);
  run(['ip', '-n', ns1, 'route', 'add', '10.96.0.0/12', 'via', '10.244.1.1', 'dev', 'eth0', 'metric', '100']);
  run(['ip', '-n', ns1, 'route', 'add', 'blackhole', '10.244.9.0/24']);
  save(
    'ip-addr',
    'captured-ip-addr',
    inNs(ns1, ['ip', 'addr']),
    'ip addr',
    ipVersion,
    'eth0 is one end of a veth pair; its peer is in a second namespace',
  );
  save('ip-addr', 'captured-ip-br-addr', inNs(ns1, ['ip', '-br', 'addr']), 'ip -br addr', ipVersion);
  save('ip-route', 'captured-ip-route', inNs(ns1, ['ip', 'route']), 'ip route', ipVersion);
  save(
    'ifconfig',
    'captured-ifconfig-net-tools',
    inNs(ns1, ['ifconfig', '-a']),
    'ifconfig -a',
    ifconfigVersion,
  );
} finally {
  run(['ip', 'netns', 'del', ns1]);
  run(['ip', 'netns', 'del', ns2]);
}
