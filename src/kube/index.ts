/**
 * `src/kube`: live clusters through the Kubernetes API (ARCHITECTURE.md): kubeconfig and contexts, list/watch into
 * model objects, and the API server reached through an SSH tunnel. Imports model, ssh and parse's pure API-object
 * mapping (so `kubectl -o json` and the live API give the same JSON).
 */
export * from './errors.js';
export * from './kubeconfig.js';
export * from './kubeClient.js';
export * from './liveCluster.js';
export * from './sshTunnel.js';
