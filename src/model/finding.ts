/**
 * What analysis says does not add up (docs/json.md, "analyze"). Codes are stable: users, labs and tests match on them.
 */
export const findingCodes = [
  'endpoint-missing',
  'endpoint-not-ready',
  'endpoint-orphan',
  'sep-missing',
  'sep-stale',
  'sep-port-mismatch',
  'clusterip-missing',
  'nodeport-missing',
  'probability-skewed',
  'node-drift',
  'distribution-unexpected',
  'backend-mode-unknown',
  'pod-ip-equals-node-ip',
  'capture-conflict',
  'capture-incomplete',
  'sample-unknown-backend',
] as const;

export type FindingCode = (typeof findingCodes)[number];

export type FindingSeverity = 'error' | 'warning' | 'info';

/** What the finding is about: a service (and port) or a pod, optionally on one node. */
export interface FindingSubject {
  readonly namespace: string;
  readonly name: string;
  /** The service port's name, or its number when unnamed. */
  readonly port?: string;
  readonly node?: string;
}

/** One fact the finding rests on: an exact rule line, an object's field, a count. */
export interface FindingEvidence {
  readonly kind: 'rule' | 'object' | 'sample' | 'statistic' | 'capture';
  /** The exact text: a rule as iptables-save printed it, `spec.clusterIP: 10.110.41.209`, `12 of 100 answers`. */
  readonly text: string;
  /** The object it comes from, e.g. `Service default/kuard`, `iptables nat KUBE-SVC-CUXC5A3HHHVSSN62 rule 3`. */
  readonly object?: string;
  /** The field within the object, e.g. `spec.clusterIP`, `--probability`. */
  readonly field?: string;
  /** The node the evidence was captured on. */
  readonly node?: string;
}

export interface Finding {
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  /** One line a learner understands. */
  readonly message: string;
  readonly subject: FindingSubject;
  readonly evidence: readonly FindingEvidence[];
}
