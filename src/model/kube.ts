import type { Deployment } from './deployment.js';
import type { Endpoints } from './endpoints.js';
import type { Node } from './node.js';
import type { Pod } from './pod.js';
import type { Service } from './service.js';

/** An object of a kind we do not model, or a bare reference (`-o name`). */
export interface KubeObjectRef {
  /** Resource as printed (`pod`, `replicaset.apps`, `Config`). */
  kind: string;
  namespace: string | null;
  name: string;
}

/** One table as printed, before mapping: header cells and row cells, `<none>` kept verbatim. */
export interface KubeTable {
  /** The resource of the rows when known (`pods`, `services`, `deployment.apps`), else null. */
  resource: string | null;
  columns: string[];
  rows: string[][];
  /** 1-based line of the header (or of the first row with `--no-headers`). */
  line: number;
}

/**
 * What any kubectl output becomes: tables, `-o yaml|json` (single objects and Lists), `-o name`.
 * Each list is empty when the output had none of that kind.
 */
export interface KubeObjects {
  pods: Pod[];
  nodes: Node[];
  services: Service[];
  endpoints: Endpoints[];
  deployments: Deployment[];
  others: KubeObjectRef[];
  /** Raw tables (table outputs only). */
  tables?: KubeTable[];
}

/** `deployment.apps "kuard" created`, `service/kuard exposed`. */
export interface KubectlAction {
  kind: string;
  name: string;
  action: string;
  dryRun: boolean;
}

/** The parts of a kubeconfig worth showing; credentials are never copied into the model. */
export interface Kubeconfig {
  currentContext: string | null;
  clusters: { name: string; server: string | null }[];
  users: { name: string; auth: string[] }[];
  contexts: { name: string; cluster: string | null; user: string | null; namespace: string | null }[];
}
