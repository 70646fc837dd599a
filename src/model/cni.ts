/** CNI network configuration (`.conflist` with `plugins`, or a single-plugin `.conf`) and `ls /opt/cni/bin`. */
export interface CniIpam {
  type: string | null;
  /** `subnet` or the first `ranges[][].subnet`s, and calico's `ipv4_pools`. */
  subnets: string[];
}

export interface CniPlugin {
  type: string | null;
  ipam: CniIpam | null;
  /** Other top-level keys of the plugin object, for display. */
  keys: string[];
  capabilities: string[];
}

export interface CniConfig {
  name: string | null;
  cniVersion: string | null;
  /** true for a `.conflist` (has `plugins`), false for a `.conf`. */
  isList: boolean;
  plugins: CniPlugin[];
}

/** A directory listing (`ls`), e.g. the plugins in /opt/cni/bin or the files in /etc/cni/net.d. */
export interface FileList {
  names: string[];
}

/** A CNI plugin's error result (`{"code": 100, "msg": ...}`), e.g. running a plugin by hand. */
export interface CniError {
  code: number | null;
  msg: string | null;
  details: string | null;
  /** Lines printed before the JSON (`CNI_COMMAND env variable missing`). */
  message: string | null;
}
