/**
 * Interfaces and routes: `ip addr` (ip-address(8)), `ip -br addr`, `ifconfig` in busybox form (the seed's kuard
 * pod) and net-tools form, and `ip route` (ip-route(8)).
 */
import type { Addresses, InterfaceAddress, NetInterface, Route, Routes } from '../model/addresses.js';
import type { ParseResult } from '../model/diagnostic.js';
import { Diagnostics, contentLines, field, int, neutraliseDeep } from './text.js';

export type IpAddrResult = ParseResult<'ip-addr', Addresses>;
export type IfconfigResult = ParseResult<'ifconfig', Addresses>;
export type IpRouteResult = ParseResult<'ip-route', Routes>;

function iface(name: string): NetInterface {
  return { name, index: null, flags: [], mtu: null, state: null, mac: null, addresses: [] };
}

function address(
  family: InterfaceAddress['family'],
  addr: string,
  prefixLength: number | null,
  broadcast: string | null = null,
  scope: string | null = null,
): InterfaceAddress {
  return { family, address: addr, prefixLength, broadcast, scope };
}

/** An info that a detail line was left unread, quoting its start. */
function notRead(diags: Diagnostics, code: string, n: number, s: string): void {
  diags.info(code, n, 1, `line not read: "${field(s, diags, n, 1).slice(0, 60)}"`);
}

function interfaces<K extends 'ip-addr' | 'ifconfig'>(
  kind: K,
  out: NetInterface[],
  diags: Diagnostics,
): ParseResult<K, Addresses> {
  return { kind, value: neutraliseDeep({ interfaces: out }, diags), diagnostics: diags.done() };
}

/** `ip addr` and `ip -br addr` (told apart line by line). */
export function parseIpAddr(text: string): IpAddrResult {
  const diags = new Diagnostics();
  const out: NetInterface[] = [];
  let cur: NetInterface | null = null;
  for (const l of contentLines(text)) {
    const t = l.text;
    const head = /^(\d+): ([^:\s]+): <([^>]*)>(.*)$/.exec(t);
    if (head) {
      const [name, link] = head[2]!.split('@');
      cur = iface(field(name!, diags, l.n, head[1]!.length + 3));
      cur.index = Number(head[1]);
      if (link !== undefined) cur.link = link;
      cur.flags = head[3] === '' ? [] : head[3]!.split(',');
      const rest = head[4]!;
      cur.mtu = int(/ mtu (\d+)/.exec(rest)?.[1]);
      cur.state = / state (\S+)/.exec(rest)?.[1] ?? null;
      out.push(cur);
      continue;
    }
    if (!/^\s/.test(t)) {
      // `ip -br addr`: NAME STATE ADDR…
      const w = t.trim().split(/\s+/);
      if (w.length >= 2 && /^[A-Z]+$/.test(w[1]!)) {
        const [name, link] = w[0]!.split('@');
        const i = iface(field(name!, diags, l.n, 1));
        if (link !== undefined) i.link = link;
        i.state = w[1]!;
        for (const a of w.slice(2)) {
          const addr = cidr(a);
          if (addr) i.addresses.push(addr);
          else
            diags.warn(
              'ip-addr-bad-address',
              l.n,
              t.indexOf(a) + 1,
              `not an address/prefix: "${field(a, diags, l.n, 1)}"`,
            );
        }
        out.push(i);
        cur = null;
        continue;
      }
      diags.warn('ip-addr-unknown-line', l.n, 1, 'not an `ip addr` line');
      continue;
    }
    if (cur === null) {
      diags.warn('ip-addr-orphan-line', l.n, 1, 'an indented line before any interface header');
      continue;
    }
    const s = t.trim();
    const w = s.split(/\s+/);
    if (w[0]!.startsWith('link/')) {
      if (w[1] && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(w[1])) cur.mac = w[1].toLowerCase();
    } else if (w[0] === 'inet' || w[0] === 'inet6') {
      const addr = cidr(w[1] ?? '');
      if (!addr) {
        diags.warn(
          'ip-addr-bad-address',
          l.n,
          t.indexOf(w[1] ?? '') + 1,
          'an inet line without address/prefix',
        );
        continue;
      }
      for (let k = 2; k < w.length - 1; k++) {
        if (w[k] === 'brd') addr.broadcast = w[k + 1]!;
        else if (w[k] === 'scope') addr.scope = w[k + 1]!;
        else if (w[k] === 'peer') {
          const p = cidr(w[k + 1]!);
          addr.peer = p ? p.address : w[k + 1]!;
          if (p) addr.prefixLength = p.prefixLength;
        }
      }
      cur.addresses.push(addr);
    } else if (
      w[0] === 'valid_lft' ||
      w[0] === 'altname' ||
      /^(RX|TX|vxlan|veth|bridge|ipip|geneve|link-netns)/.test(w[0]!)
    ) {
      // lifetimes, alternative names and -details lines: nothing we model
    } else {
      notRead(diags, 'ip-addr-unknown-detail', l.n, s);
    }
  }
  if (out.length === 0)
    diags.error('ip-addr-empty', 1, 1, 'no interface found (expected "N: NAME: <FLAGS> …")');
  return interfaces('ip-addr', out, diags);
}

function cidr(s: string): InterfaceAddress | null {
  const m = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(s);
  if (!m || !(m[1]!.includes('.') || m[1]!.includes(':'))) return null;
  return address(m[1]!.includes(':') ? 'inet6' : 'inet', m[1]!, m[2] === undefined ? null : Number(m[2]));
}

function maskBits(mask: string): number | null {
  const parts = mask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return null;
  let bits = 0;
  let ended = false;
  for (const p of parts)
    for (let b = 7; b >= 0; b--) {
      if (p & (1 << b)) {
        if (ended) return null;
        bits++;
      } else ended = true;
    }
  return bits;
}

/** `ifconfig`: busybox (`Link encap:… HWaddr`, `inet addr:`) and net-tools (`flags=…<…>  mtu`, `inet A  netmask M`). */
export function parseIfconfig(text: string): IfconfigResult {
  const diags = new Diagnostics();
  const out: NetInterface[] = [];
  let cur: NetInterface | null = null;
  for (const l of contentLines(text)) {
    const t = l.text;
    if (!/^\s/.test(t)) {
      const nt = /^([^\s:]+(?::\d+)?): flags=\d+<([^>]*)>\s+mtu (\d+)/.exec(t);
      const bb = /^(\S+)\s+Link encap:(.*?)(?:\s+HWaddr (\S+))?\s*$/.exec(t);
      if (nt) {
        cur = iface(field(nt[1]!, diags, l.n, 1));
        cur.flags = nt[2] === '' ? [] : nt[2]!.split(',');
        cur.mtu = Number(nt[3]);
      } else if (bb) {
        cur = iface(field(bb[1]!, diags, l.n, 1));
        if (bb[3]) cur.mac = bb[3].toLowerCase();
      } else {
        diags.warn('ifconfig-unknown-line', l.n, 1, 'not an ifconfig interface header');
        cur = null;
        continue;
      }
      out.push(cur);
      continue;
    }
    if (cur === null) continue;
    const s = t.trim();
    let m: RegExpExecArray | null;
    if ((m = /^inet addr:(\S+)(?:\s+P-t-P:(\S+))?(?:\s+Bcast:(\S+))?\s+Mask:(\S+)/.exec(s))) {
      cur.addresses.push({
        ...address('inet', m[1]!, maskBits(m[4]!), m[3] ?? null),
        ...(m[2] ? { peer: m[2] } : {}),
      });
    } else if ((m = /^inet6 addr: ?(\S+?)\/(\d+) Scope:(\S+)/.exec(s))) {
      cur.addresses.push(address('inet6', m[1]!, Number(m[2]), null, m[3]!.toLowerCase()));
    } else if ((m = /^inet (\S+)\s+netmask (\S+)(?:\s+broadcast (\S+))?(?:\s+destination (\S+))?/.exec(s))) {
      cur.addresses.push(address('inet', m[1]!, maskBits(m[2]!), m[3] ?? null));
    } else if ((m = /^inet6 (\S+)\s+prefixlen (\d+)(?:\s+scopeid \S+<(\w+)>)?/.exec(s))) {
      cur.addresses.push(address('inet6', m[1]!, Number(m[2]), null, m[3] ?? null));
    } else if ((m = /^ether (\S+)/.exec(s))) {
      cur.mac = m[1]!.toLowerCase();
    } else if (/^[A-Z ]+ MTU:\d+/.test(s)) {
      // busybox: `UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1`
      const fm = /^(.*?)\s+MTU:(\d+)/.exec(s)!;
      cur.flags = fm[1]!.split(/\s+/);
      cur.mtu = Number(fm[2]);
    } else if ((m = /^RX packets[: ](\d+)/.exec(s))) {
      cur.rxPackets = Number(m[1]);
      const b = /bytes (\d+)/.exec(s);
      if (b) cur.rxBytes = Number(b[1]);
    } else if ((m = /^TX packets[: ](\d+)/.exec(s))) {
      cur.txPackets = Number(m[1]);
      const b = /bytes (\d+)/.exec(s);
      if (b) cur.txBytes = Number(b[1]);
    } else if ((m = /^RX bytes:(\d+) .*TX bytes:(\d+)/.exec(s))) {
      cur.rxBytes = Number(m[1]);
      cur.txBytes = Number(m[2]);
    } else if (/^(RX errors|TX errors|collisions|loop|Interrupt|device)/.test(s)) {
      // error counters: not modelled
    } else {
      notRead(diags, 'ifconfig-unknown-detail', l.n, s);
    }
  }
  if (out.length === 0) diags.error('ifconfig-empty', 1, 1, 'no interface found');
  return interfaces('ifconfig', out, diags);
}

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'anycast',
]);

/** `ip route` / `ip -6 route` / `ip route show table all`. */
export function parseIpRoute(text: string): IpRouteResult {
  const diags = new Diagnostics();
  const routes: Route[] = [];
  for (const l of contentLines(text)) {
    const t = l.text;
    if (/^\s/.test(t)) {
      // multipath `nexthop via … dev …` lines belong to the route above
      const last = routes[routes.length - 1];
      const nh = /nexthop via (\S+) dev (\S+)/.exec(t);
      if (last && nh) last.extra.push(`nexthop ${nh[1]} ${nh[2]}`);
      continue;
    }
    const w = t.trim().split(/\s+/);
    let i = 0;
    const r: Route = {
      destination: '',
      type: null,
      gateway: null,
      device: null,
      protocol: null,
      scope: null,
      source: null,
      metric: null,
      table: null,
      extra: [],
    };
    if (ROUTE_TYPES.has(w[0]!)) r.type = w[i++]!;
    const dest = w[i++];
    if (dest === undefined || !/^(default|[0-9a-fA-F:.]+(\/\d+)?)$/.test(dest)) {
      diags.warn('ip-route-bad-line', l.n, 1, 'not an `ip route` line (DESTINATION [via GW] [dev DEV] …)');
      continue;
    }
    r.destination = dest;
    while (i < w.length) {
      const k = w[i++]!;
      const v = w[i];
      switch (k) {
        case 'via':
          r.gateway = v ?? null;
          i++;
          break;
        case 'dev':
          r.device = v === undefined ? null : field(v, diags, l.n, 1);
          i++;
          break;
        case 'proto':
          r.protocol = v ?? null;
          i++;
          break;
        case 'scope':
          r.scope = v ?? null;
          i++;
          break;
        case 'src':
          r.source = v ?? null;
          i++;
          break;
        case 'metric':
          r.metric = int(v);
          i++;
          break;
        case 'table':
          r.table = v ?? null;
          i++;
          break;
        case 'mtu':
        case 'advmss':
        case 'pref':
        case 'weight':
        case 'expires':
        case 'realm':
          r.extra.push(`${k} ${v ?? ''}`.trim());
          i++;
          break;
        default:
          r.extra.push(field(k, diags, l.n, 1));
      }
    }
    routes.push(r);
  }
  if (routes.length === 0) diags.error('ip-route-empty', 1, 1, 'no route found');
  return { kind: 'ip-route', value: neutraliseDeep({ routes }, diags), diagnostics: diags.done() };
}
