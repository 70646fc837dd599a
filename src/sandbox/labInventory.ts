/**
 * The lab inventory `labdeck sandbox up` writes beside `ssh_config` (docs/labs.md, "Inventory"): it binds the
 * roles of the shipped labs to the sandbox's machines. Pure: the text is derived from the plan alone; paths are
 * relative to the inventory file, which lives in the instance directory next to `ssh_config` and `kubeconfig`.
 */
import type { SandboxPlan } from './topology.js';

export const LAB_INVENTORY_FILE = 'inventory.yaml';

export function labInventoryText(plan: SandboxPlan): string {
  const master = plan.nodes.find((n) => n.role === 'control-plane') ?? plan.nodes[0]!;
  const workers = plan.nodes.filter((n) => n !== master);
  const ssh = (host: string) => `{ssh: {config: ssh_config, host: ${host}}}`;
  return [
    `# LabDeck sandbox "${plan.name}": where each lab role runs. Written by \`labdeck sandbox up\`.`,
    `#   labdeck lab run labs/tgik-002-networking-and-services --inventory <this file> --skip-setup`,
    '# The sandbox already has what the setup steps create (deployment kuard, service kuard).',
    `environment: sandbox-${plan.name}`,
    'roles:',
    '  # kubectl with the admin kubeconfig is on the master (like the seed, ~/.kube/config there); the API',
    "  # double's address is reachable only inside the lab, so the workstation role works from the master.",
    `  workstation:`,
    `    ssh: {config: ssh_config, host: ${master.name}}`,
    `  master:`,
    `    ssh: {config: ssh_config, host: ${master.name}}`,
    '  # every node: the workers first (steps with on=first use worker-1), then the master, which runs kube-proxy too',
    '  node:',
    ...[...workers, master].map((n) => `    - ${ssh(n.name)}`),
    '  # a shell in one kuard pod: kubectl exec into deploy/kuard, run where the workstation role runs (the master,',
    '  # with its ~/.kube/config)',
    '  pod:',
    '    kubectl-exec: {pod: deploy/kuard, namespace: default}',
    '',
  ].join('\n');
}
