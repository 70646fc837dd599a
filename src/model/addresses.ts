/** Interfaces and routes, from `ip addr`, `ip -br addr`, `ifconfig` (busybox and net-tools), `ip route`. */
export interface InterfaceAddress {
  family: 'inet' | 'inet6';
  address: string;
  prefixLength: number | null;
  broadcast: string | null;
  scope: string | null;
  /** `peer` address of a point-to-point link. */
  peer?: string | null;
}

export interface NetInterface {
  name: string;
  /** `ip addr` index; null from ifconfig and `-br`. */
  index: number | null;
  /** `eth0@if7`: the peer interface index (veth). */
  link?: string | null;
  flags: string[];
  mtu: number | null;
  /** `UP`, `DOWN`, `UNKNOWN` (operstate) when shown. */
  state: string | null;
  mac: string | null;
  addresses: InterfaceAddress[];
  rxPackets?: number | null;
  txPackets?: number | null;
  rxBytes?: number | null;
  txBytes?: number | null;
}

export interface Route {
  /** `default`, `10.0.0.0/24`, `192.168.3.140` … as printed. */
  destination: string;
  /** Route type when printed first (`unreachable`, `blackhole`, `local`, `broadcast`). */
  type: string | null;
  gateway: string | null;
  device: string | null;
  protocol: string | null;
  scope: string | null;
  source: string | null;
  metric: number | null;
  table: string | null;
  /** Words we did not interpret (`linkdown`, `onlink`, `mtu 1450`), as printed. */
  extra: string[];
}

export interface Addresses {
  interfaces: NetInterface[];
}

export interface Routes {
  routes: Route[];
}
