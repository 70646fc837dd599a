/**
 * A throwaway network namespace for benchmarks and fixture capture: created, used, and always deleted.
 * Commands run without a shell (execFileSync with argv).
 */
import { execFileSync } from 'node:child_process';

export function run(argv: string[], input?: string): string {
  return execFileSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    ...(input !== undefined ? { input } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** `ip netns exec NS argv…` */
export function inNs(ns: string, argv: string[], input?: string): string {
  return run(['ip', 'netns', 'exec', ns, ...argv], input);
}

export async function withNetns<T>(name: string, fn: (ns: string) => T | Promise<T>): Promise<T> {
  run(['ip', 'netns', 'add', name]);
  try {
    return await fn(name);
  } finally {
    run(['ip', 'netns', 'del', name]);
  }
}
