/** The service view: one entry per Service, from selector to pods to endpoints to each node's kube-proxy chains. */

export interface PodView {
  readonly name: string;
  readonly ip: string | null;
  readonly node: string | null;
  /** null when the capture did not say. */
  readonly ready: boolean | null;
  /** How the pod was tied to the service: its labels match the selector, or an endpoint names it / has its IP. */
  readonly matchedBy: 'selector' | 'endpoint';
}

export interface EndpointView {
  readonly ip: string;
  /** The endpoint port serving this service port (by port name). */
  readonly port: number | null;
  readonly portName: string;
  readonly ready: boolean;
  readonly node: string | null;
  readonly pod: string | null;
}

export interface BackendView {
  /** The service port this backend serves (its name, or its number when unnamed). */
  readonly servicePort: string;
  /** The KUBE-SEP chain. */
  readonly chain: string;
  /** DNAT target; null when the SEP chain is not in the capture. */
  readonly ip: string | null;
  readonly port: number | null;
  /** The rule's own `--probability`; null for the last rule, which takes every connection that reaches it. */
  readonly probability: number | null;
  /** The share of new connections that land here: p_i × Π(1 − p_j) over the rules before it. */
  readonly effectiveProbability: number;
  /** Is the DNAT target a ready endpoint of this service port? null when the endpoints (or the target) are unknown. */
  readonly isEndpoint: boolean | null;
  /** The pod with that IP, when known. */
  readonly pod: string | null;
  /** `svc` for cluster-wide traffic; `local` for KUBE-SVL / KUBE-XLB (externalTrafficPolicy: Local). */
  readonly via: 'svc' | 'local';
  /** The jump rule in the service chain and the DNAT rule in the SEP chain, as iptables-save printed them. */
  readonly rule: string;
  readonly dnatRule: string | null;
}

export interface NodePortChainsView {
  readonly servicePort: string;
  /** The KUBE-SERVICES rule for ClusterIP:port; null when absent. */
  readonly clusterIPRule: string | null;
  readonly nodePortRule: string | null;
  /** kube-proxy's filter-table REJECT for a port without endpoints (`"… has no endpoints"`). */
  readonly noEndpointsRules: readonly string[];
  /** `loadbalancer IP` / `external IP` entries. */
  readonly externalRules: readonly string[];
  readonly svcChain: string | null;
  /** KUBE-EXT (current: NodePort and load-balancer traffic), KUBE-FW (load-balancer firewall). */
  readonly extChain: string | null;
  readonly fwChain: string | null;
  /** KUBE-SVL (current) or KUBE-XLB (2019): local endpoints only. */
  readonly localChain: string | null;
  /** sessionAffinity: ClientIP as kube-proxy writes it: `-m recent --rcheck --seconds N` before the spread. */
  readonly affinity: { readonly seconds: number | null; readonly rules: readonly string[] } | null;
  readonly backends: readonly BackendView[];
  readonly localBackends: readonly BackendView[];
}

export interface NodeServiceView {
  /** Every port's backends in one list: `{ip, port, probability, chain}` and more. */
  readonly backends: readonly BackendView[];
  readonly ports: readonly NodePortChainsView[];
}

export interface ServicePortView {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly targetPort: number | string | null;
  readonly nodePort: number | null;
}

export interface ServiceView {
  readonly namespace: string;
  readonly name: string;
  readonly type: string | null;
  readonly clusterIP: string | null;
  /** What kind of service this is, for a learner: no virtual IP, a DNS alias, a load balancer… */
  readonly headless: boolean;
  readonly externalName: string | null;
  readonly loadBalancerIngress: readonly string[];
  readonly externalTrafficPolicy: string | null;
  readonly sessionAffinity: string | null;
  readonly selector: Readonly<Record<string, string>> | null;
  readonly ports: readonly ServicePortView[];
  readonly pods: readonly PodView[];
  readonly endpoints: readonly EndpointView[];
  /** Per node whose iptables-save was captured. */
  readonly nodes: Readonly<Record<string, NodeServiceView>>;
  /** One line per thing worth saying about the kind of service (headless, ExternalName, Local policy …). */
  readonly notes: readonly string[];
  /**
   * Never set by the analysis (`labdeck analyze` prints full lists): the workbench's pushed view cuts a big Service's
   * lists and says here how long they were (its Pods view lists every pod).
   */
  readonly cutFrom?: {
    readonly pods: number;
    readonly endpoints: number;
    /** Per node, its backends. */
    readonly backends: Readonly<Record<string, number>>;
  };
}
