/** A cluster node, from `kubectl get nodes [-o wide]`, a Node object, or `-o jsonpath` of its addresses. */
export interface Node {
  name: string;
  /** As printed: `Ready`, `NotReady`, `Ready,SchedulingDisabled`. */
  status: string | null;
  /** `ROLES` split on commas; `<none>` is the empty list. */
  roles: string[];
  internalIP: string | null;
  externalIP: string | null;
  age?: string | null;
  version?: string | null;
  osImage?: string | null;
  kernelVersion?: string | null;
  containerRuntime?: string | null;
  podCIDR?: string | null;
  labels?: Record<string, string>;
}
