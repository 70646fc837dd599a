/** What kuard (gcr.io/kuar-demo/kuard) answers on `/env/api`, and `hostname` inside a pod. */
export interface KuardEnv {
  commandLine: string[];
  env: Record<string, string>;
  /** `env.HOSTNAME`: which pod answered. */
  hostname: string | null;
}

/** Several answers in one output (a loop of `curl …/env/api`), in order. */
export interface KuardResponses {
  responses: KuardEnv[];
}

export interface Hostname {
  hostname: string;
}

/** Words printed by `-o jsonpath` (space separated, or one a line after `tr`). */
export interface Words {
  words: string[];
}
