/**
 * Builds the TGIK-002 lab's second recording, `labs/tgik-002-networking-and-services/recordings/seed-2019/`, from
 * the seed write-up's own captures (docs/labs.md, "Shipped recordings"). Re-run after changing the lab or this
 * file:
 *
 *   npx tsx scripts/make-seed-recording.ts [OUT_DIR]
 *
 * How: the real lab runner (src/labs/runner.ts) runs the lab against `SeedTarget`s, which answer a command only
 * when the table `seedAnswers` below maps that lab block or check to a seed output; the real `RecordingWriter`
 * writes what the runner saw (the same files `labdeck lab run --record` writes). So every recorded command is
 * exactly the text the lab will ask for in a replay, variables included, and a command with no seed counterpart
 * is simply not in the recording (a replay then fails it, saying the recording has no run of it).
 *
 * The outputs are the seed's text, byte for byte: the blocks already cut out as golden fixtures under
 * test/fixtures/<kind>/seed-*.txt (their .meta.json names the seed lines), checked here against the seed itself.
 * The seed never shows exit codes or timings: exit codes are 0 where the output is a normal answer and 1 where
 * the tool printed its error (see the calico entry); the clock is synthetic (one second per command), starting at
 * the deployment's creationTimestamp in the seed.
 */
import { recordingObserver } from '../src/api/labBinding.js';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseOutput } from '../src/labs/parseOutput.js';
import { AnalyzedSnapshot } from '../src/labs/analyzedSnapshot.js';
import { loadLabDir } from '../src/labs/loadLab.js';
import type { Lab } from '../src/labs/model.js';
import {
  LabRunner,
  type BoundTarget,
  type LabCommandResult,
  type LabTarget,
  type RunSummary,
} from '../src/labs/runner.js';
import { RecordingWriter } from '../src/targets/recording.js';

const root = resolve(import.meta.dirname, '..');
export const labDir = join(root, 'labs/tgik-002-networking-and-services');
export const defaultOutDir = join(labDir, 'recordings/seed-2019');
/** The seed write-up; when it is not on this machine, the fixtures (cut from it, see their .meta.json) are used unchecked. */
const seedFile = process.env['LABDECK_SEED'] ?? '/work/shared/seed/000_fc6df25fcccb5e79.txt';
const fixtures = join(root, 'test/fixtures');

/** The seed machines, named as the seed's prompts and NODE columns name them. */
const workstation = 'workstation';
/** The pod the write-up opened a shell in (`kubectl exec -it kuard-dbdd7955d-4kdbr ash`, seed line 53). */
const pod = 'kuard-dbdd7955d-4kdbr';
/** The master of the first SSH session (seed line 121, prompt `ubuntu@ip-10-0-23-3`). */
const master = 'ip-10-0-23-3';
/**
 * The lab's node role is "a shell on each worker node". The write-up never opened a shell on a worker
 * (ip-10-0-8-254 and ip-10-0-8-176 appear only in NODE columns); its node-level capture, the iptables rules, was
 * taken in its second SSH session (seed line 445), on the control-plane machine ip-10-0-18-181, which is a node
 * too (kube-proxy runs there: three kube-proxy pods for three machines, line 500).
 */
const nodes = 'ip-10-0-18-181';

/** A fixture's text (a block of the seed), checked to be the seed's own lines. */
function seedBlock(seed: string | undefined, fixture: string): string {
  const text = readFileSync(join(fixtures, fixture), 'utf8');
  const body = text.replace(/\n+$/, '');
  if (seed !== undefined && !seed.includes(body))
    throw new Error(`${fixture} is not a block of the seed any more (${seedFile})`);
  return `${body}\n`;
}

interface SeedAnswer {
  /** The lab block or check whose command this output answers. */
  readonly id: string;
  readonly role: string;
  readonly instance: string;
  readonly stdout: string;
  readonly stderr?: string;
  readonly exitCode: number;
}

/**
 * Which seed output answers which of the lab's commands, and why it is an honest answer. Lab commands missing
 * here have no counterpart in the seed and stay out of the recording:
 * - node-ips: the seed shows the jsonpath command (line 101) but not its output.
 * - pod-ip-not-node-ip (`kubectl get pods -o json`), the EndpointSlice commands (EndpointSlices did not exist in
 *   2019), headless-dry-run (the seed's dry run used `--type=None`, which was never valid, and printed YAML).
 * - node-to-pod: the seed's one curl from a machine to a pod (line 142) answers the master's block; using it
 *   twice would claim two requests.
 * - kube-proxy-pods: the seed listed every kube-system pod (line 488), not `-l k8s-app=kube-proxy -o wide`.
 * - filter-table: the seed ran `iptables -L` without `-n`, which prints names, not addresses.
 * - probabilities-one-in-n, sep-for-every-endpoint, kube-proxy-on-every-node: pipelines whose output the seed
 *   never printed (computing it from the seed's rules would be inventing it).
 * - cluster-ip-samples, node-port-samples: the seed made 7 single curls to 10.110.41.209 and 6 to
 *   localhost:30361 on the master, not 30 or 10 in a loop, and not to the ClusterIP of the service it captured.
 * - node-port, lb-service, deployment-json, load-balancer-feeds-node-port: jsonpath, `-o wide` and `-o json`
 *   forms the seed never ran (its Deployment is YAML from extensions/v1beta1).
 */
function seedAnswers(seed: string | undefined): SeedAnswer[] {
  const wget = seedBlock(seed, 'kuard-env/seed-pod-to-pod-wget-env-api.txt').split('\n');
  const ifconfig = seedBlock(seed, 'ifconfig/seed-networking-ifconfig-busybox.txt');
  const endpoints = seedBlock(seed, 'kubectl-object/seed-none-endpoints-yaml.txt');
  return [
    // `kubectl run --replicas=10 …` (seed line 26) is what created the Deployment in 2019; the lab's
    // `kubectl create deployment … --replicas=10` does the same job today. Its answer, line 27.
    {
      id: 'create-kuard',
      role: 'workstation',
      instance: workstation,
      stdout: seedBlock(seed, 'kubectl-action/seed-networking-run.txt'),
      exitCode: 0,
    },
    // `kubectl get pods` right after the run (lines 29-40, 13 s old): the default namespace held only the kuard
    // pods, so `-l app=kuard` lists the same rows.
    {
      id: 'pods-list',
      role: 'workstation',
      instance: workstation,
      stdout: seedBlock(seed, 'kubectl-table/seed-networking-get-pods.txt'),
      exitCode: 0,
    },
    // `kubectl get pods -o wide` (lines 80-91, 2 min old), the same pods with IPs and nodes.
    {
      id: 'ten-kuard-running',
      role: 'workstation',
      instance: workstation,
      stdout: seedBlock(seed, 'kubectl-table/seed-networking-get-pods-wide.txt'),
      exitCode: 0,
    },
    // Inside the pod (lines 54-55).
    {
      id: 'pod-hostname',
      role: 'pod',
      instance: pod,
      stdout: seedBlock(seed, 'hostname/seed-networking-hostname.txt'),
      exitCode: 0,
    },
    // The seed ran `ifconfig` (lines 56-73); `ifconfig eth0` prints the eth0 paragraph of it, lines 57-64.
    {
      id: 'pod-ifconfig',
      role: 'pod',
      instance: pod,
      stdout: `${ifconfig.split('\n\n')[0]}\n`,
      exitCode: 0,
    },
    // `wget -O - 192.168.49.6:8080/env/api` (lines 110-113): the lab asks the second pod of the list, which is
    // 192.168.49.6 in the seed too. Busybox wget writes "Connecting to" and the progress bar to stderr (the lab's
    // -q would have silenced them); the answer itself is stdout. The answer names a HOSTNAME that is in no pod
    // list of the seed: kept as printed.
    {
      id: 'pod-to-pod',
      role: 'pod',
      instance: pod,
      stdout: `${wget[1]}\n`,
      stderr: `${wget[0]}\n${wget[2]}\n`,
      exitCode: 0,
    },
    // On the master, `kubectl get po -o wide` (lines 125-136, 25 min old).
    {
      id: 'master-pods',
      role: 'master',
      instance: master,
      stdout: seedBlock(seed, 'kubectl-table/seed-node-to-pod-get-po-wide.txt'),
      exitCode: 0,
    },
    // `curl 192.168.3.140:8080/env/api` on the master (lines 142-143); the lab's -s and --max-time change
    // nothing in a successful answer. 192.168.3.140 is the first pod of the list, as in the lab.
    {
      id: 'master-to-pod',
      role: 'master',
      instance: master,
      stdout: seedBlock(seed, 'kuard-env/seed-node-to-pod-curl-env-api.txt'),
      exitCode: 0,
    },
    // `cd /etc/cni/net.d/; ls` on ip-10-0-23-3 (lines 162-164), in a terminal, so in columns.
    {
      id: 'cni-dir',
      role: 'master',
      instance: master,
      stdout: seedBlock(seed, 'file-list/seed-cni-ls-net-d.txt'),
      exitCode: 0,
    },
    // `cat 10-calico.conflist` (lines 170-196): the only .conflist of the listing above.
    {
      id: 'cni-conflist',
      role: 'master',
      instance: master,
      stdout: seedBlock(seed, 'cni-config/seed-cni-10-calico-conflist.txt'),
      exitCode: 0,
    },
    // `cd /opt/cni/bin; ls` (lines 229-231).
    {
      id: 'cni-bin',
      role: 'master',
      instance: master,
      stdout: seedBlock(seed, 'file-list/seed-cni-ls-opt-cni-bin.txt'),
      exitCode: 0,
    },
    // `./calico` in /opt/cni/bin (lines 237-242), the lab's `/opt/cni/bin/calico </dev/null 2>&1`: the log line
    // (stderr) and the error JSON (stdout) as the terminal showed them, merged as 2>&1 merges them. The seed shows
    // no exit code; a CNI plugin that prints an error result exits 1 (containernetworking/cni pkg/skel,
    // PluginMain: `e.Print(); os.Exit(1)`).
    {
      id: 'cni-plugin-needs-env',
      role: 'master',
      instance: master,
      stdout: seedBlock(seed, 'cni-error/seed-cni-run-calico.txt'),
      exitCode: 1,
    },
    // `kubectl expose deployment kuard --type=LoadBalancer --target-port=8080 --port=80` (lines 869-870): the
    // lab's command with its flags in another order.
    {
      id: 'expose-kuard',
      role: 'workstation',
      instance: workstation,
      stdout: seedBlock(seed, 'kubectl-action/seed-loadbalancer-expose.txt'),
      exitCode: 0,
    },
    // The seed's first look at the service, `kubectl get svc kuard -o yaml` in its ClusterIP section (lines
    // 411-439): clusterIP 10.97.169.67, nodePort 31986, created 2019-01-18T13:22:28Z.
    {
      id: 'service-exists',
      role: 'workstation',
      instance: workstation,
      stdout: seedBlock(seed, 'kubectl-object/seed-clusterip-svc-yaml.txt'),
      exitCode: 0,
    },
    // The Endpoints YAML (lines 305-401), without the author's "# $ kubectl get endpoints kuard" comment line,
    // which is not output. Its pods are the ones of the lists above (uids ending befa-0209e53cf850).
    {
      id: 'endpoints-yaml',
      role: 'workstation',
      instance: workstation,
      stdout: endpoints.replace(/^# \$ kubectl get endpoints kuard\n/, ''),
      exitCode: 0,
    },
    // The seed's second look at the service, in its NodePort section (lines 813-840): clusterIP 10.110.41.209,
    // nodePort 30361, created 2019-01-18T14:49:58Z, a different uid: the service had been made again.
    {
      id: 'service-yaml',
      role: 'workstation',
      instance: workstation,
      stdout: seedBlock(seed, 'kubectl-object/seed-nodeport-svc-yaml.txt'),
      exitCode: 0,
    },
    // `iptables-save | less` on ip-10-0-18-181 (lines 744-758) and, from the same rules, the KUBE-SVC chain
    // (lines 770-779) and one KUBE-SEP chain (lines 785-786) the write-up cut out: all nat-table rules, in the
    // order iptables-save prints chains. The "..." lines are the author's elisions, kept.
    {
      id: 'nat-table',
      role: 'node',
      instance: nodes,
      stdout:
        seedBlock(seed, 'iptables-save/seed-clusterip-iptables-save-less.txt') +
        seedBlock(seed, 'iptables-save/seed-clusterip-kube-svc-chain.txt') +
        seedBlock(seed, 'iptables-save/seed-clusterip-kube-sep-chain.txt'),
      exitCode: 0,
    },
    // The lab greps KUBE-SERVICES for the ClusterIP's jump; the seed shows exactly that rule (line 764), cut out
    // by the author from the same rules to show where 10.97.169.67 goes.
    {
      id: 'kuard-in-kube-services',
      role: 'node',
      instance: nodes,
      stdout: seedBlock(seed, 'iptables-save/seed-clusterip-kube-services-rule.txt'),
      exitCode: 0,
    },
  ];
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The lab's command for a block or check, as a pattern where each `{{variable}}` matches any text. */
function commandPattern(lab: Lab, id: string): RegExp {
  for (const s of lab.steps) {
    const c = s.checks.find((x) => x.id === id)?.run?.command ?? s.blocks.find((b) => b.id === id)?.command;
    if (c !== undefined)
      return new RegExp(
        `^${c
          .split(/\{\{[^}]*\}\}/)
          .map(escapeRe)
          .join('[^\\n]+?')}$`,
      );
  }
  throw new Error(`the lab has no block or check "${id}"; update seedAnswers in ${import.meta.filename}`);
}

/**
 * A role instance of the seed: answers a command with the next seed output mapped to a lab command it matches;
 * any other command gets no answer (exit code null), and the generator leaves it out of the recording.
 */
class SeedTarget implements LabTarget {
  readonly description = 'the seed write-up (2019)';
  readonly recorded = true;
  constructor(
    private readonly answers: { answer: SeedAnswer; pattern: RegExp; used: boolean }[],
    private readonly clock: () => number,
    private readonly answered: WeakSet<LabCommandResult>,
  ) {}
  run(command: string): Promise<LabCommandResult> {
    const startedAt = this.clock();
    const a = this.answers.find((x) => !x.used && x.pattern.test(command));
    if (!a) return Promise.resolve({ stdout: '', stderr: '', exitCode: null, startedAt, endedAt: startedAt });
    a.used = true;
    const r: LabCommandResult = {
      stdout: a.answer.stdout,
      stderr: a.answer.stderr ?? '',
      exitCode: a.answer.exitCode,
      startedAt,
      endedAt: this.clock(),
    };
    this.answered.add(r);
    return Promise.resolve(r);
  }
  dispose(): void {}
}

export const environment =
  'seed captures 2019: AWS heptio-quickstart cluster (Kubernetes with Calico, ap-northeast-2), from the TGIK 002 write-up';

export const note =
  'The outputs of this recording are the captures printed in the 2019 write-up of TGIK 002 (a Heptio quickstart ' +
  'cluster on AWS with Calico), mapped to the commands of this lab. They were taken at different moments, and ' +
  'not all on the same cluster: the pod lists and the Endpoints belong to the cluster whose master is ' +
  'ip-10-0-23-3 (pod uids ending befa-0209e53cf850); the services and the iptables rules come from the session ' +
  'on ip-10-0-18-181 (uids ending a27c-02b8e4b61ab8), where the kuard service was created at 13:22:28Z ' +
  '(ClusterIP 10.97.169.67, NodePort 31986) and again at 14:49:58Z (ClusterIP 10.110.41.209, NodePort 30361). ' +
  'So the rules send kuard traffic to 192.168.236.133, an address that is no endpoint of the service captured, ' +
  'the two looks at the service disagree, and the pod-to-pod answer names a pod (kuard-dbdd7955d-c48g5) that ' +
  'is in no pod list. The checks that fail on this recording show how captures from different runs of a ' +
  'cluster do not add up. Commands the write-up never ran (EndpointSlices, -o json, loops of requests, the ' +
  "lab's pipelines) are not in the recording; a replay says so. The master role is ip-10-0-23-3, the master " +
  'of the first SSH session; the node role is ip-10-0-18-181, the control-plane machine of the second session, ' +
  'where the iptables rules were taken (the write-up never opened a shell on a worker). ' +
  'Exit codes are inferred from the outputs and timings are synthetic (one second per command).';

/** The clock starts at the kuard Deployment's creationTimestamp in the seed (line 898) and ticks 1 s per read. */
function seedClock(): () => number {
  let t = Date.parse('2019-01-18T06:21:13Z');
  return () => {
    const now = t;
    t += 1000;
    return now;
  };
}

/** Writes the recording to `outDir` (recording.json and one .cast per role instance); returns the run against the seed. */
export async function makeSeedRecording(outDir: string = defaultOutDir): Promise<RunSummary> {
  const seed = existsSync(seedFile) ? readFileSync(seedFile, 'utf8') : undefined;
  const loaded = loadLabDir(labDir);
  if (!loaded.lab) throw new Error(`the lab at ${labDir} is invalid; run \`labdeck lab validate\``);
  const lab = loaded.lab;
  const clock = seedClock();
  const answered = new WeakSet<LabCommandResult>();
  const answers = seedAnswers(seed).map((answer) => ({
    answer,
    pattern: commandPattern(lab, answer.id),
    used: false,
  }));
  const instances = new Map<string, string>();
  for (const a of answers) instances.set(a.answer.role, a.answer.instance);
  const targets = (role: string): BoundTarget[] => [
    {
      instance: instances.get(role) ?? role,
      target: new SeedTarget(
        answers.filter((a) => a.answer.role === role),
        clock,
        answered,
      ),
    },
  ];
  const writer = new RecordingWriter(
    outDir,
    { lab: { id: lab.id, title: lab.title }, name: 'seed-2019', environment, note },
    clock,
  );
  const record = recordingObserver(writer);
  const runner = new LabRunner({
    lab,
    targets,
    parse: parseOutput,
    snapshot: new AnalyzedSnapshot(clock),
    trusted: true,
    sleep: () => Promise.resolve(),
    observer: {
      step: record.step,
      // Only what the seed answered is recorded; a command it never ran stays out of the recording.
      command: (c) => {
        if (answered.has(c.result)) record.command?.(c);
      },
    },
  });
  let summary: RunSummary;
  try {
    summary = await runner.runAll();
  } finally {
    runner.dispose();
  }
  const unused = answers.filter((a) => !a.used).map((a) => a.answer.id);
  if (unused.length)
    throw new Error(`seed answers the lab never asked for (was a command changed?): ${unused.join(', ')}`);
  await writer.close();
  return summary;
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const out = resolve(process.argv[2] ?? defaultOutDir);
  makeSeedRecording(out).then(
    (summary) => {
      for (const st of summary.steps)
        process.stdout.write(
          `${st.status.padEnd(7)} ${st.id}${st.message ? `: ${st.message}` : ''}\n` +
            st.checks
              .filter((c) => c.status !== 'done')
              .map((c) => `          ${c.status} ${c.id}: ${c.message ?? ''}\n`)
              .join(''),
        );
      process.stdout.write(`wrote ${out}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
