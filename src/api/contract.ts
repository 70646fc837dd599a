/**
 * The one typed contract between the UI and the backend: every method (request → reply) and every pushed event,
 * as zod schemas. The server validates each request against its schema before dispatch; the renderer imports only
 * the types (`Request<'terminal.create'>`, `EventPayload<'terminal.data'>`), never the schema values.
 */
import { z } from 'zod';
import { maxMessageChars } from './protocol.js';
import type { SnapshotView, CaptureInfo } from './snapshotService.js';
import type { SshPromptRequest } from './sshPrompts.js';
import type {
  LabCommandView,
  LabConfirmRequest,
  LabDocument,
  LabSessionInfo,
  LabSummary,
} from './labService.js';
import type { BlockResult, CheckResult, StepResult } from '../labs/runner.js';
import type { Progress } from '../labs/progress.js';
import { forwardEvents, forwardMethods } from './forwardContract.js';
import type { KubeContextsView, KubeStatusView } from './kubeService.js';

export type { SnapshotView, CaptureInfo } from './snapshotService.js';
export type { SshPromptRequest, SshPromptAnswer } from './sshPrompts.js';
export type {
  Analysis,
  ServiceView,
  NodeServiceView,
  BackendView,
  PodView,
  EndpointView,
  InventoryView,
  PodRow,
  NodeRow,
  PodServiceRef,
} from '../analyze/index.js';
export type { Finding, FindingEvidence } from '../model/finding.js';
export type {
  LabCommandView,
  LabConfirmRequest,
  LabDocument,
  LabSessionInfo,
  LabSummary,
} from './labService.js';
export type { Lab, Step, Block, Check } from '../labs/model.js';
export type { BlockResult, CheckResult, StepResult } from '../labs/runner.js';
export type { Progress } from '../labs/progress.js';
export type { ForwardInfoView, ForwardError, ForwardState, ForwardFields } from './forwardContract.js';
export type { KubeContextsView, KubeStatusView, KubeContextInfo } from './kubeService.js';

const id = z.string().min(1).max(64);
const dimension = z.number().int().min(1).max(2000);
/** Lab, step and block ids are kebab-case (docs/labs.md). */
const labId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/)
  .max(100);

export const terminalExit = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.number().int().nullable(),
  /** Why it ended when no exit code says it, e.g. "connection to bastion (…) closed by remote". */
  reason: z.string().optional(),
});

export const terminalInfo = z.object({
  id,
  kind: z.enum(['local', 'ssh', 'replay']),
  title: z.string(),
  shell: z.string(),
  cwd: z.string().nullable(),
  pid: z.number().int().nullable(),
  cols: z.number().int(),
  rows: z.number().int(),
  exit: terminalExit.nullable(),
  recording: z.string().nullable(),
  /** The injected prompt hooks have reported: blocks will be captured. */
  shellIntegration: z.boolean(),
  /** Output is held back by flow control until the renderer catches up. */
  paused: z.boolean(),
});

export const terminalBlock = z.object({
  seq: z.number().int(),
  command: z.string(),
  output: z.string(),
  /** The output was longer than the capture limit; its head is kept. */
  truncated: z.boolean(),
  exitCode: z.number().int().nullable(),
  startedAt: z.number(),
  endedAt: z.number(),
  cwd: z.string().nullable(),
});

export const appInfo = z.object({
  name: z.literal('LabDeck'),
  version: z.string(),
  host: z.enum(['electron', 'web']),
  platform: z.string(),
});

const empty = z.object({}).strict();
const ok = z.null();

// ---- kube: live clusters through the Kubernetes API (src/kube, api/kubeService.ts) ----------------------------
/** A file path as the user typed it (`~/` allowed). */
const kubePath = z.string().min(1).max(4096);
/** A kubeconfig context name: any printable text kubectl accepts, without control characters. */
const kubeContext = z
  .string()
  .min(1)
  .max(253)
  .refine((v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: 'a context name has no control characters',
  });
/** RFC 1123 label, as Kubernetes namespaces are. */
const kubeNamespace = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
const kubeMethods = {
  /** The contexts of a kubeconfig (default $KUBECONFIG, else ~/.kube/config): names, servers, no credentials. */
  'kube.contexts': {
    request: z.object({ kubeconfig: kubePath.optional() }).strict(),
    reply: z.custom<KubeContextsView>(),
  },
  /** Connects to a context (replacing any connection), optionally through an SSH host; its watch feeds the snapshot. */
  'kube.connect': {
    request: z
      .object({
        kubeconfig: kubePath.optional(),
        context: kubeContext.optional(),
        /** An OpenSSH config Host (or user@host[:port]) to tunnel the API connection through. */
        via: z.string().min(1).max(1024).optional(),
        /** The OpenSSH config file for `via` (`ssh -F`). */
        sshConfig: kubePath.optional(),
        namespace: kubeNamespace.optional(),
        /** Needed only when the kubeconfig says insecure-skip-tls-verify. */
        allowInsecureTls: z.boolean().optional(),
      })
      .strict(),
    reply: z.custom<KubeStatusView>(),
  },
  'kube.disconnect': { request: empty, reply: ok },
  'kube.status': { request: empty, reply: z.custom<KubeStatusView>() },
} as const;
const kubeEvents = {
  /** The cluster connection changed: connecting, connected (with counts), reconnecting (with the error), … */
  'kube.state': z.custom<KubeStatusView>(),
} as const;
// ---- end kube ------------------------------------------------------------------------------------------------

export const methods = {
  'app.info': { request: empty, reply: appInfo },
  /** Opens an http(s) link in the user's browser (the renderer has asked the user first). */
  'app.openExternal': { request: z.object({ url: z.string().max(8192) }).strict(), reply: ok },
  /** A local shell, or a shell on `destination` (a Host of the OpenSSH config, or user@host[:port]). */
  'terminal.create': {
    request: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('local'),
          cols: dimension,
          rows: dimension,
          cwd: z.string().max(4096).optional(),
          shell: z.string().max(4096).optional(),
        })
        .strict(),
      z
        .object({
          kind: z.literal('ssh'),
          cols: dimension,
          rows: dimension,
          destination: z.string().min(1).max(1024),
          /** An OpenSSH config file (`ssh -F`); default ~/.ssh/config. */
          config: z.string().max(4096).optional(),
        })
        .strict(),
    ]),
    reply: terminalInfo,
  },
  /** A fresh shell for an ssh terminal whose connection dropped: every hop re-verified, nothing re-run. */
  'terminal.reconnect': { request: z.object({ id }).strict(), reply: terminalInfo },
  'terminal.list': { request: empty, reply: z.array(terminalInfo) },
  'terminal.write': { request: z.object({ id, data: z.string().max(1_000_000) }).strict(), reply: ok },
  'terminal.resize': { request: z.object({ id, cols: dimension, rows: dimension }).strict(), reply: ok },
  /** Flow control: the renderer acknowledges characters once xterm has parsed them. */
  'terminal.ack': {
    request: z.object({ id, chars: z.number().int().min(0).max(100_000_000) }).strict(),
    reply: ok,
  },
  'terminal.kill': {
    request: z.object({ id, signal: z.enum(['SIGINT', 'SIGTERM', 'SIGKILL', 'SIGHUP']).optional() }).strict(),
    reply: ok,
  },
  'terminal.close': { request: z.object({ id }).strict(), reply: ok },
  'terminal.blocks': { request: z.object({ id }).strict(), reply: z.array(terminalBlock) },
  /** The recent output of a session, for a view that attaches late (e.g. after a reload). */
  'terminal.output': { request: z.object({ id }).strict(), reply: z.object({ data: z.string() }) },
  'terminal.record': {
    request: z.object({ id, on: z.boolean() }).strict(),
    reply: z.object({ file: z.string().nullable() }),
  },
  /** The workspace snapshot: every recognised capture, analysed together. */
  'snapshot.get': { request: empty, reply: z.custom<SnapshotView>() },
  /** Adds pasted output; `captured: null` when no parser recognised it. */
  'snapshot.add': {
    request: z
      .object({
        /** Below the message limit (protocol.ts): larger dumps go through `labdeck analyze FILE` or a terminal. */
        text: z.string().max(maxMessageChars - 64 * 1024),
        command: z.string().max(4096).optional(),
        node: z.string().max(253).optional(),
      })
      .strict(),
    reply: z.object({ captured: z.custom<CaptureInfo>().nullable() }),
  },
  'snapshot.remove': { request: z.object({ id }).strict(), reply: ok },
  'snapshot.clear': { request: empty, reply: ok },
  /** Host aliases of an OpenSSH config file, for the connect dialog (wildcard patterns left out). */
  'ssh.hosts': {
    request: z.object({ config: z.string().max(4096).optional() }).strict(),
    reply: z.array(z.string()),
  },
  /** The user's answer to `ssh.prompt`; null cancels. */
  'ssh.answer': {
    request: z
      .object({
        request: id,
        answer: z
          .union([
            z.object({ hostKey: z.enum(['accept-once', 'accept-and-remember', 'reject']) }).strict(),
            z.object({ secret: z.string().max(65536) }).strict(),
            z.object({ responses: z.array(z.string().max(65536)).max(32) }).strict(),
          ])
          .nullable(),
      })
      .strict(),
    reply: ok,
  },
  // SSH local forwards (-L): forwards.list / forwards.open / forwards.close, defined in forwardContract.ts.
  ...forwardMethods,
  /** The app's own labs. */
  'labs.list': { request: empty, reply: z.custom<LabSummary[]>() },
  'labs.open': { request: z.object({ id: labId }).strict(), reply: z.custom<LabDocument>() },
  /** Lists a lab from a folder outside the app's labs; it is untrusted until `labs.trust`. */
  'labs.add': {
    request: z.object({ dir: z.string().min(1).max(4096) }).strict(),
    reply: z.custom<LabSummary>(),
  },
  'labs.trust': {
    request: z.object({ id: labId, trusted: z.boolean() }).strict(),
    reply: z.custom<LabSummary>(),
  },
  /** Binds the lab's roles to a recording (`replay`: a name under the lab's recordings/) or an inventory file. */
  'labs.start': {
    request: z
      .object({
        id: labId,
        replay: z.string().max(200).optional(),
        inventory: z.string().max(4096).optional(),
      })
      .strict(),
    reply: z.custom<LabSessionInfo>(),
  },
  'labs.runBlock': {
    request: z.object({ session: id, step: labId, block: labId }).strict(),
    reply: z.custom<BlockResult>(),
  },
  'labs.runChecks': {
    request: z.object({ session: id, step: labId }).strict(),
    reply: z.custom<CheckResult[]>(),
  },
  'labs.runStep': {
    request: z.object({ session: id, step: labId, skipSetup: z.boolean().optional() }).strict(),
    reply: z.custom<StepResult>(),
  },
  'labs.progress': { request: z.object({ session: id }).strict(), reply: z.custom<Progress>() },
  /** The user's answer to `labs.confirm` (an untrusted lab asks before each command). */
  'labs.answer': { request: z.object({ request: id, yes: z.boolean() }).strict(), reply: ok },
  'labs.stop': { request: z.object({ session: id }).strict(), reply: ok },
  ...kubeMethods,
} as const;

export const events = {
  'terminal.data': z.object({ id, data: z.string() }),
  'terminal.info': terminalInfo,
  /** The backend opened a terminal for the user to watch (a lab role's machine, where its commands are typed). */
  'terminal.opened': terminalInfo,
  'terminal.exit': z.object({ id, exit: terminalExit }),
  'terminal.block': z.object({ id, block: terminalBlock }),
  'snapshot.changed': z.custom<SnapshotView>(),
  'labs.command': z.custom<LabCommandView>(),
  'ssh.prompt': z.custom<SshPromptRequest>(),
  // SSH local forwards: forwards.changed, defined in forwardContract.ts.
  ...forwardEvents,
  'labs.check': z.custom<{ session: string; step: string; result: CheckResult }>(),
  'labs.step': z.custom<{ session: string; result: StepResult }>(),
  'labs.confirm': z.custom<LabConfirmRequest>(),
  ...kubeEvents,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Request<M extends MethodName> = z.input<Methods[M]['request']>;
export type Reply<M extends MethodName> = z.output<Methods[M]['reply']>;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export type TerminalInfo = z.output<typeof terminalInfo>;
export type TerminalBlock = z.output<typeof terminalBlock>;
export type AppInfo = z.output<typeof appInfo>;
