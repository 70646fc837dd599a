import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/client';

/**
 * The Host names of an OpenSSH config (the default one when `config` is blank), for a destination field's
 * suggestions: asked 200 ms after the config field stops changing; none when the config cannot be read.
 */
export function useSshHosts(api: ApiClient, config: string): string[] {
  const [hosts, setHosts] = useState<string[]>([]);
  useEffect(() => {
    const t = setTimeout(() => {
      api
        .call('ssh.hosts', config.trim() ? { config: config.trim() } : {})
        .then(setHosts, () => setHosts([]));
    }, 200);
    return () => clearTimeout(t);
  }, [api, config]);
  return hosts;
}
