/**
 * What can go wrong talking to a cluster, as one error type with a stable code and a `where` (the context, the
 * server, the kubeconfig file). Messages are written for the user: what failed, where, what to do. They never carry
 * a stack trace or a credential: `redactor` strips every secret of the kubeconfig from any text we pass on.
 */
import type { User } from '@kubernetes/client-node';

export type KubeErrorCode =
  | 'kubeconfig-not-found'
  | 'kubeconfig-invalid'
  | 'no-such-context'
  | 'insecure-tls-refused'
  | 'unreachable'
  | 'tls-failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'gone'
  | 'tunnel-failed'
  | 'api-error'
  | 'disposed';

export class KubeError extends Error {
  constructor(
    readonly code: KubeErrorCode,
    readonly where: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

/** Where the request went, for messages: the context, its user and server, and the TLS name checked. */
export interface KubeTarget {
  readonly context: string;
  readonly user: string;
  readonly server: string;
  /** The name the server certificate must carry: tls-server-name, else the server URL's host. */
  readonly serverName: string;
  /** `bastion` when the API server is reached through an SSH tunnel. */
  readonly via?: string;
}

const TLS_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
]);

/** Every error code in an error's cause chain (node-fetch wraps the socket's error). */
function codesOf(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== null && typeof e === 'object'; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') out.push(c);
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string') out.push(errno);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function messagesOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== null && e !== undefined; i++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ');
}

/** An HTTP status an error carries: client-node's ApiException `code`, its Watch's `statusCode`. */
function httpStatusOf(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  if (typeof code === 'number') return code;
  return undefined;
}

/** The `message` of a Kubernetes Status body, when the error has one. */
function statusMessageOf(err: unknown): string | undefined {
  const body = (err as { body?: unknown } | null)?.body;
  let o: unknown = body;
  if (typeof body === 'string') {
    try {
      o = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const m = (o as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : undefined;
}

function via(t: KubeTarget): string {
  return t.via ? ` through the SSH tunnel via ${t.via}` : '';
}

/**
 * Any failure of a request to the API server → a KubeError for the user. `what` is the request in words
 * (`list pods`). Secrets are stripped by `redact` before the text leaves.
 */
export function describeKubeFailure(
  err: unknown,
  target: KubeTarget,
  what: string,
  redact: (s: string) => string,
): KubeError {
  if (err instanceof KubeError) return new KubeError(err.code, err.where, redact(err.message));
  const status = httpStatusOf(err);
  const ctx = `context "${target.context}"`;
  if (status === 401) {
    return new KubeError(
      'unauthorized',
      target.context,
      `${what}: the API server ${target.server} did not accept the credentials of user "${target.user}" (${ctx}): 401 Unauthorized. Check the user's token or client certificate in the kubeconfig (it may have expired).`,
    );
  }
  if (status === 403) {
    const detail = statusMessageOf(err);
    return new KubeError(
      'forbidden',
      target.context,
      redact(
        `${what}: user "${target.user}" (${ctx}) is not allowed to: 403 Forbidden${detail ? ` (${detail})` : ''}. Ask for RBAC read access (get, list, watch), or pick a namespace you may read.`,
      ),
    );
  }
  if (status === 404)
    return new KubeError(
      'not-found',
      target.context,
      `${what}: the API server ${target.server} does not serve this resource (404).`,
    );
  if (status === 410)
    return new KubeError('gone', target.context, `${what}: the resource version is too old (410 Gone).`);
  if (status !== undefined) {
    const detail = statusMessageOf(err);
    return new KubeError(
      'api-error',
      target.context,
      redact(`${what}: the API server ${target.server} answered ${status}${detail ? `: ${detail}` : ''}.`),
    );
  }
  const codes = codesOf(err);
  const text = messagesOf(err);
  if (codes.includes('LABDECK_TUNNEL')) {
    return new KubeError(
      'tunnel-failed',
      target.via ?? target.server,
      redact(`${what}: ${text.replace(/^request to \S+ failed, reason: /, '')}`),
    );
  }
  const tls =
    codes.find((c) => TLS_CODES.has(c)) ?? (/certificate|SSL routines|TLS/i.test(text) ? 'TLS' : undefined);
  if (tls) {
    const reason =
      tls === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? `its certificate is not valid for the name "${target.serverName}"`
        : /SELF_SIGNED|UNABLE_TO|CERT_UNTRUSTED|ISSUER/.test(tls)
          ? `its certificate for "${target.serverName}" is not signed by the kubeconfig's certificate authority`
          : /EXPIRED|NOT_YET/.test(tls)
            ? `its certificate for "${target.serverName}" is outside its validity period`
            : `the TLS handshake for "${target.serverName}" failed (${tls})`;
    return new KubeError(
      'tls-failed',
      target.server,
      `${what}: refused to talk to ${target.server}${via(target)}: ${reason}. Nothing was sent. Check the cluster's certificate-authority and tls-server-name in the kubeconfig (${ctx}).`,
    );
  }
  const net = codes.find((c) => NET_CODES.has(c));
  if (net || /socket hang up|network|timed? ?out|aborted/i.test(text)) {
    return new KubeError(
      'unreachable',
      target.server,
      `${what}: cannot reach the API server ${target.server}${via(target)} (${net ?? redact(text)}). Is the server up and the address right (${ctx})${target.via ? '' : '; does it need an SSH tunnel through a bastion'}?`,
    );
  }
  return new KubeError('api-error', target.context, redact(`${what}: ${text}`));
}

/**
 * A function that replaces every credential of the given users (tokens, passwords, client keys and certificates,
 * in any encoding we know they travel in) by `[redacted]`. Applied to every message that leaves the kube room.
 */
export function redactor(users: readonly User[]): (s: string) => string {
  const secrets = new Set<string>();
  for (const u of users) {
    for (const v of [u.token, u.password, u.keyData, u.certData]) {
      if (typeof v !== 'string' || v.length < 6) continue;
      secrets.add(v);
      // keyData/certData are base64 of PEM: the decoded PEM's body lines too.
      if (v === u.keyData || v === u.certData) {
        const pem = Buffer.from(v, 'base64').toString('utf8');
        for (const line of pem.split('\n'))
          if (line.length >= 16 && !line.startsWith('-----')) secrets.add(line);
      }
    }
    if (u.username && u.password) secrets.add(Buffer.from(`${u.username}:${u.password}`).toString('base64'));
  }
  const list = [...secrets].sort((a, b) => b.length - a.length);
  return (s: string) => {
    let out = s;
    for (const secret of list) out = out.split(secret).join('[redacted]');
    // Whatever else looks like a bearer token in a header.
    return out.replace(/(authorization["']?\s*[:=]\s*["']?(?:bearer|basic)\s+)[^\s"',}]+/gi, '$1[redacted]');
  };
}
