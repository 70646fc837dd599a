/** A Deployment (or ReplicaSet/DaemonSet/StatefulSet row of a table: `kind` says which). */
export interface Deployment {
  kind: string;
  namespace: string | null;
  name: string;
  replicas: number | null;
  readyReplicas: number | null;
  updatedReplicas: number | null;
  availableReplicas: number | null;
  age: string | null;
  selector: Record<string, string> | null;
  images: string[];
}
