import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { Lab, LabProblem } from './model.js';
import { didYouMean, zodProblems } from './schema.js';

/**
 * An inventory binds a lab's roles to machines (docs/labs.md, "Inventory"). Paths in it are relative to the
 * inventory file. Each role maps to one binding, or (for a role with `many: true`) a list of them.
 */
const localBinding = z.strictObject({
  local: z.union([
    z.literal(true),
    z.strictObject({ cwd: z.string().optional(), env: z.record(z.string(), z.string()).optional() }),
  ]),
  name: z.string().optional(),
});
const sshBinding = z.strictObject({
  ssh: z.strictObject({
    config: z.string(),
    host: z.string().min(1),
    /** Unknown host keys: refused (strict, the default) or remembered on first sight (accept-new). */
    hostKeys: z.enum(['strict', 'accept-new']).optional(),
  }),
  name: z.string().optional(),
});
const kubectlExecBinding = z.strictObject({
  'kubectl-exec': z.strictObject({
    pod: z.string().min(1),
    namespace: z.string().default('default'),
    container: z.string().optional(),
    context: z.string().optional(),
    kubeconfig: z.string().optional(),
  }),
  name: z.string().optional(),
});
const kubectlDebugBinding = z.strictObject({
  'kubectl-debug': z.strictObject({
    node: z.string().min(1),
    image: z.string().default('busybox:1.36'),
    namespace: z.string().default('default'),
    context: z.string().optional(),
    kubeconfig: z.string().optional(),
  }),
  name: z.string().optional(),
});
const replayBinding = z.strictObject({
  replay: z.strictObject({ recording: z.string(), instance: z.string().optional() }),
  name: z.string().optional(),
});
const bindingSchema = z.union([
  z.literal('local').transform(() => ({ local: true as const })),
  localBinding,
  sshBinding,
  kubectlExecBinding,
  kubectlDebugBinding,
  replayBinding,
]);
export const inventorySchema = z.strictObject({
  /** Names the environment: progress is kept per lab and environment. */
  environment: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ".", "_" and "-"'),
  roles: z.record(z.string(), z.union([bindingSchema, z.array(bindingSchema).min(1)])),
});

export type BindingKind = 'local' | 'ssh' | 'kubectl-exec' | 'kubectl-debug' | 'replay';

/** One machine a role is bound to, with paths resolved against the inventory file. */
export type TargetSpec =
  | { readonly kind: 'local'; readonly cwd?: string; readonly env?: Readonly<Record<string, string>> }
  | {
      readonly kind: 'ssh';
      readonly config: string;
      readonly host: string;
      readonly hostKeys?: 'strict' | 'accept-new';
    }
  | {
      readonly kind: 'kubectl-exec';
      readonly pod: string;
      readonly namespace: string;
      readonly container?: string;
      readonly context?: string;
      readonly kubeconfig?: string;
    }
  | {
      readonly kind: 'kubectl-debug';
      readonly node: string;
      readonly image: string;
      readonly namespace: string;
      readonly context?: string;
      readonly kubeconfig?: string;
    }
  | { readonly kind: 'replay'; readonly recording: string; readonly instance?: string };

export interface RoleInstance {
  readonly role: string;
  /** Unique within the role: `name:` or the host/node/pod name, or the role's name for a single binding. */
  readonly instance: string;
  readonly spec: TargetSpec;
}

export interface Inventory {
  readonly file: string;
  readonly environment: string;
  readonly roles: ReadonlyMap<string, readonly RoleInstance[]>;
}

export type InventoryLoad =
  | { readonly inventory: Inventory; readonly problems: readonly LabProblem[] }
  | { readonly problems: readonly LabProblem[] };

type BindingIn = z.infer<typeof bindingSchema>;

function toSpec(b: BindingIn, base: string): { spec: TargetSpec; natural?: string } {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  if ('local' in b) {
    const o = b.local === true ? {} : b.local;
    return {
      spec: { kind: 'local', ...(o.cwd ? { cwd: abs(o.cwd) } : {}), ...(o.env ? { env: o.env } : {}) },
    };
  }
  if ('ssh' in b)
    return {
      spec: {
        kind: 'ssh',
        config: abs(b.ssh.config),
        host: b.ssh.host,
        ...(b.ssh.hostKeys ? { hostKeys: b.ssh.hostKeys } : {}),
      },
      natural: b.ssh.host,
    };
  if ('kubectl-exec' in b) {
    const k = b['kubectl-exec'];
    return {
      spec: { kind: 'kubectl-exec', ...k, ...(k.kubeconfig ? { kubeconfig: abs(k.kubeconfig) } : {}) },
      natural: k.pod,
    };
  }
  if ('kubectl-debug' in b) {
    const k = b['kubectl-debug'];
    return {
      spec: { kind: 'kubectl-debug', ...k, ...(k.kubeconfig ? { kubeconfig: abs(k.kubeconfig) } : {}) },
      natural: k.node,
    };
  }
  return {
    spec: {
      kind: 'replay',
      recording: abs(b.replay.recording),
      ...(b.replay.instance ? { instance: b.replay.instance } : {}),
    },
    ...(b.replay.instance ? { natural: b.replay.instance } : {}),
  };
}

export function parseInventory(text: string, file: string): InventoryLoad {
  const where = 'inventory';
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length)
    return {
      problems: doc.errors.map((e) => ({
        path: where,
        message: `invalid YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    return { problems: [{ path: where, message: `cannot read the YAML: ${(e as Error).message}` }] };
  }
  const r = inventorySchema.safeParse(raw);
  if (!r.success) {
    const problems = zodProblems(r.error, where, { '': ['environment', 'roles'] }).map((p) =>
      p.message.startsWith('Invalid input') && p.path.includes('roles.')
        ? {
            ...p,
            advice:
              'a binding is "local", {local: {cwd, env}}, {ssh: {config, host, hostKeys?: strict | accept-new}}, {kubectl-exec: {pod, namespace}}, {kubectl-debug: {node}} or {replay: {recording}}',
          }
        : p,
    );
    return { problems };
  }
  const base = dirname(file);
  const roles = new Map<string, RoleInstance[]>();
  const problems: LabProblem[] = [];
  for (const [role, v] of Object.entries(r.data.roles)) {
    const list = Array.isArray(v) ? v : [v];
    const instances: RoleInstance[] = [];
    list.forEach((b, i) => {
      const { spec, natural } = toSpec(b, base);
      const instance =
        ('name' in b ? b.name : undefined) ?? (list.length === 1 ? role : (natural ?? `${role}-${i + 1}`));
      if (instances.some((x) => x.instance === instance))
        problems.push({
          path: `${where}: roles.${role}[${i}]`,
          message: `instance name "${instance}" is used twice`,
          advice: 'give each a distinct name: field',
        });
      instances.push({ role, instance, spec });
    });
    roles.set(role, instances);
  }
  return { inventory: { file, environment: r.data.environment, roles }, problems };
}

export function loadInventory(file: string): InventoryLoad {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { problems: [{ path: file, message: `cannot be read: ${(e as Error).message}` }] };
  }
  return parseInventory(text, resolve(file));
}

/** Does the inventory bind every role the lab needs, and only as many instances as each role allows? */
export function checkInventory(
  lab: Lab,
  inv: Inventory,
): { readonly errors: LabProblem[]; readonly warnings: LabProblem[] } {
  const problems: LabProblem[] = [];
  // One inventory often serves several labs (e.g. the sandbox's): roles a lab does not use are only a warning.
  const warnings: LabProblem[] = [];
  const declared = lab.roles.map((r) => r.id);
  for (const r of lab.roles) {
    const bound = inv.roles.get(r.id);
    if (!bound)
      problems.push({
        path: `inventory: roles`,
        message: `role "${r.id}" (${r.description}) is not bound`,
        advice: `add "${r.id}: local" or another binding to ${inv.file}`,
      });
    else if (!r.many && bound.length > 1)
      problems.push({
        path: `inventory: roles.${r.id}`,
        message: `binds ${bound.length} machines, but the lab's role "${r.id}" has one`,
        advice: 'bind a single machine',
      });
  }
  for (const role of inv.roles.keys())
    if (!declared.includes(role)) {
      const guess = didYouMean(role, declared);
      warnings.push({
        path: `inventory: roles.${role}`,
        message: `the lab has no role "${role}"`,
        advice: `${guess ? `did you mean "${guess}"? ` : ''}roles: ${declared.join(', ')}`,
      });
    }
  return { errors: problems, warnings };
}
