/**
 * A pod as the panels see it, from `kubectl get pods` (any form) or a Pod object. JSON names are part of the
 * product (docs/json.md): change them only additively.
 */
export interface Pod {
  /** null when the output did not say (a table without `-A` lists the current namespace only). */
  namespace: string | null;
  name: string;
  /** Ready containers over all containers, as kubectl prints it: `"1/1"`. */
  ready: string | null;
  status: string | null;
  restarts: number | null;
  /** As printed (`13s`, `2m`, `25h`); tables carry no timestamps. */
  age: string | null;
  ip: string | null;
  node: string | null;
  nominatedNode?: string | null;
  readinessGates?: string | null;
  labels?: Record<string, string>;
}
