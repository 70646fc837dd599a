/**
 * The shipped TGIK 002 lab (labs/tgik-002-networking-and-services) as the tests expect it: its steps, in order,
 * following the seed write-up's sections. One list for the lab-file test and the seed-recording replay test.
 */
export const TGIK_002_STEP_IDS: readonly string[] = [
  'pods',
  'pod-to-pod',
  'node-to-pod',
  'cni',
  'service-types',
  'endpoints',
  'cluster-ip',
  'kube-proxy',
  'chains',
  'spread',
  'node-port',
  'load-balancer',
];
