/**
 * Benchmark (not a test): parse time of a large kube-proxy `iptables-save` dump, as a ratio to the
 * `iptables-save` run that printed it (same machine, same run). Run as root: `npx tsx bench/parse-iptables.ts`.
 *
 * 1. generate 5,000 services × 10 endpoints in the current kube-proxy format (~217k lines);
 * 2. load them into a throwaway network namespace with iptables-restore;
 * 3. time `iptables-save` in that namespace (the reference);
 * 4. time parseIptablesSave on its output (median of RUNS, interleaved with the references), and the
 *    incremental parser fed the dump in 64 KiB strings as a pipe delivers them;
 * 5. stream iptables-save's stdout into the incremental parser, against the same dump only read from the pipe, in
 *    pairs: how much later the parsed ruleset is ready than the bare dump;
 * 6. print ratios, MB/s and heap; the goal is parse/iptables-save ≤ 0.04.
 * References in the same process: splitting the text into lines, a naive regex-per-line parser that builds
 * nothing, and the model floor (bench/model-floor.ts): the same objects built from known offsets, no parsing at
 * all, which no parser returning this model can beat.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createIptablesSaveParser,
  parseIptablesSave,
  sharedFieldValues,
} from '../src/parse/iptables-save.js';
import { generateKubeProxyRules } from './kube-proxy-rules.js';
import { buildFromPlan, planModel } from './model-floor.js';
import { inNs, withNetns } from './netns.js';

const SERVICES = Number(process.env.SERVICES ?? 5000);
const ENDPOINTS = Number(process.env.ENDPOINTS ?? 10);
const RUNS = Number(process.env.RUNS ?? 7);

/** Median of RUNS timings of each function, run interleaved so that load from other processes hits all alike. */
function medians(fns: Record<string, () => unknown>): Record<string, number> {
  const times: Record<string, number[]> = {};
  for (let i = 0; i < RUNS; i++)
    for (const [name, fn] of Object.entries(fns)) {
      const t0 = performance.now();
      fn();
      (times[name] ??= []).push(performance.now() - t0);
    }
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(times))
    out[name] = t.sort((x, y) => x - y)[Math.floor(t.length / 2)]!;
  return out;
}

/** What a first attempt looks like: one regex per line and per field. Reference only. */
function naive(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const rest = m[2]!;
    const src = /(!\s)?-s (\S+)/.exec(rest);
    const dst = /(!\s)?-d (\S+)/.exec(rest);
    const comment = /--comment "((?:[^"\\]|\\.)*)"/.exec(rest);
    const prob = /--probability (\S+)/.exec(rest);
    const target = /-([jg]) (\S+)(.*)$/.exec(rest);
    const dnat = /--to-destination (\S+)/.exec(rest);
    const dport = /--dport (\S+)/.exec(rest);
    if (src || dst || comment || prob || target || dnat || dport) n++;
  }
  return n;
}

/**
 * Run iptables-save in the namespace with its stdout through a pipe, as over SSH; ms from spawn until done. With
 * `parse`, each chunk goes into the incremental parser as it arrives and "done" is when the ruleset is ready
 * (a slow parser also slows the dump: the pipe fills and iptables-save waits); without, the chunks are only kept.
 */
function piped(ns: string, parse: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = createIptablesSaveParser();
    const kept: string[] = [];
    const child = spawn('ip', ['netns', 'exec', ns, 'iptables-save'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (parse ? p.push(chunk) : kept.push(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      const errors = parse ? p.end().diagnostics.filter((d) => d.severity === 'error').length : 0;
      if (code !== 0 || errors > 0 || (!parse && kept.length === 0))
        reject(new Error(`iptables-save exited ${code}; ${errors} parse errors`));
      else resolve(performance.now() - t0);
    });
  });
}

/** The dump as a pipe hands it over: fresh strings of 64 KiB each (not slices of one string). */
function pipeChunks(dump: string): string[] {
  const bytes = Buffer.from(dump);
  const out: string[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < bytes.length; i += 65536)
    out.push(decoder.decode(bytes.subarray(i, i + 65536), { stream: true }));
  return out;
}

async function main(): Promise<void> {
  const input = generateKubeProxyRules({ services: SERVICES, endpointsPerService: ENDPOINTS });
  const ns = `ldparse-${process.pid}-bench`;
  await withNetns(ns, async (name) => {
    inNs(name, ['iptables-restore'], input);
    const version = inNs(name, ['iptables-save', '--version']).trim();
    // the reference: iptables-save printing the ruleset (median of 3, it is slow)
    const saves: number[] = [];
    let dump = '';
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      dump = inNs(name, ['iptables-save']);
      saves.push(performance.now() - t0);
    }
    const saveMs = saves.sort((x, y) => x - y)[1]!;
    // Streamed: iptables-save's output parsed chunk by chunk as it arrives, against the same dump only read from
    // the pipe, in pairs run back to back (so that load from other processes hits both alike). What counts is how
    // much later the parsed ruleset is ready than the bare dump.
    const extra: number[] = [];
    for (let i = 0; i < 5; i++) {
      const bare = await piped(name, false);
      const parsed = await piped(name, true);
      extra.push((parsed - bare) / bare);
    }
    extra.sort((x, y) => x - y);
    const mb = Buffer.byteLength(dump) / 1e6;
    const lines = dump.split('\n').length - 1;

    // Heap: a forced GC before, the heap right after one parse (its peak, garbage included), and after a GC
    // with the result still held (what the model costs to keep).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let r: ReturnType<typeof parseIptablesSave> | null = parseIptablesSave(dump);
    const heapAfterParse = process.memoryUsage().heapUsed;
    gc();
    const heapRetained = process.memoryUsage().heapUsed - heapBefore;
    const rules = Object.values(r.value.tables).reduce(
      (n, t) => n + Object.values(t.chains).reduce((m, c) => m + c.rules.length, 0),
      0,
    );
    const diagnostics = r.diagnostics.length;
    const plan = planModel(dump, r.value, new Set(sharedFieldValues));
    r = null; // timed runs below start without a parsed ruleset held, as a fresh parse would
    gc();
    const chunks = pipeChunks(dump);
    const m = medians({
      parse: () => parseIptablesSave(dump),
      chunks: () => {
        const p = createIptablesSaveParser();
        for (const c of chunks) p.push(c);
        return p.end();
      },
      split: () => dump.split('\n').length,
      naive: () => naive(dump),
      floor: () => buildFromPlan(dump, plan),
    });
    const parseMs = m.parse!;
    const chunkMs = m.chunks!;
    const splitMs = m.split!;
    const naiveMs = m.naive!;
    const f = (x: number): string => x.toFixed(3);
    console.log(
      `load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} on ${cpus().length} CPUs`,
    );
    console.log(
      `${version}; ${lines} lines, ${mb.toFixed(1)} MB, ${rules} rules, ${diagnostics} diagnostics`,
    );
    console.log(`iptables-save (reference)   ${saveMs.toFixed(0)} ms`);
    console.log(
      `parseIptablesSave           ${parseMs.toFixed(1)} ms  ratio ${f(parseMs / saveMs)}  ${(mb / (parseMs / 1000)).toFixed(0)} MB/s`,
    );
    console.log(`incremental, 64 KiB chunks  ${chunkMs.toFixed(1)} ms  ratio ${f(chunkMs / saveMs)}`);
    console.log(`split lines only            ${splitMs.toFixed(1)} ms  ratio ${f(splitMs / saveMs)}`);
    console.log(`naive regex, no model       ${naiveMs.toFixed(1)} ms  ratio ${f(naiveMs / saveMs)}`);
    console.log(
      `model floor, no parsing     ${m.floor!.toFixed(1)} ms  ratio ${f(m.floor! / saveMs)}  (building the same objects from known offsets)`,
    );
    console.log(
      `heap: ${(heapBefore / 1e6).toFixed(0)} MB before (input and dump held), +${((heapAfterParse - heapBefore) / 1e6).toFixed(0)} MB right after parsing, +${(heapRetained / 1e6).toFixed(0)} MB retained by the parsed ruleset`,
    );
    console.log(
      `streamed: iptables-save piped into the incremental parser is ready ${f(extra[2]!)} × the bare piped dump later (median of 5 pairs; range ${f(extra[0]!)} to ${f(extra[4]!)})`,
    );
    console.log('goal: parse/iptables-save <= 0.04');
  });
}

await main();
