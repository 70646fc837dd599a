/** A Service, from `kubectl get svc [-o wide]` or a Service object. */
export interface ServicePort {
  name: string | null;
  port: number;
  protocol: string;
  /** A number, a named container port, or null when the output did not show it (tables never do). */
  targetPort: number | string | null;
  nodePort: number | null;
}

export interface Service {
  namespace: string | null;
  name: string;
  /** ClusterIP, NodePort, LoadBalancer, ExternalName, or whatever the output said (the seed shows `None`). */
  type: string | null;
  /** `None` for a headless service, as kubectl prints it. */
  clusterIP: string | null;
  externalIPs: string[];
  ports: ServicePort[];
  /** null when unknown (a table without `-o wide`); `{}` when known to be empty. */
  selector: Record<string, string> | null;
  sessionAffinity: string | null;
  externalTrafficPolicy: string | null;
  /** Load-balancer ingress (IPs or hostnames) from `status.loadBalancer.ingress` or the table's EXTERNAL-IP. */
  loadBalancerIngress?: string[];
  externalName?: string | null;
  age?: string | null;
  labels?: Record<string, string>;
}
