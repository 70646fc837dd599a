import { describe, expect, it } from 'vitest';
import { parsePath, resolvePath, substitute, UnresolvedVariableError } from '../../src/labs/variables.js';

const state = {
  pods: [
    { name: 'kuard-dbdd7955d-4kdbr', ip: '192.168.3.140' },
    { name: 'kuard-dbdd7955d-5r757', ip: '192.168.49.6' },
  ],
  services: { kuard: { clusterIP: '10.97.169.67', ports: [{ nodePort: 30361 }] } },
  labels: { 'app.kubernetes.io/name': 'kuard' },
  hostile: { name: '$(touch /tmp/pwned); echo' },
  objectValue: { a: 1 },
};

describe('variables', () => {
  it('parses paths with indexes, quoted keys and projections', () => {
    expect(parsePath('pods[0].name')).toEqual({ ok: true, segments: ['pods', 0, 'name'] });
    expect(parsePath('labels["app.kubernetes.io/name"]')).toEqual({
      ok: true,
      segments: ['labels', 'app.kubernetes.io/name'],
    });
    expect(parsePath('pods[*].ip')).toEqual({ ok: true, segments: ['pods', '*', 'ip'] });
    expect(parsePath('pods[')).toMatchObject({ ok: false, error: expect.stringMatching(/missing "]"/) });
    expect(parsePath('[0]')).toMatchObject({ ok: false });
  });

  it('resolves against captured state, by name in lists, and lengths', () => {
    expect(substitute('kubectl exec -it {{pods[0].name}} -- ash', state, { shell: true })).toBe(
      'kubectl exec -it kuard-dbdd7955d-4kdbr -- ash',
    );
    expect(substitute('curl {{services.kuard.clusterIP}}:80', state, { shell: true })).toBe(
      'curl 10.97.169.67:80',
    );
    expect(substitute('for ip in {{pods[*].ip}}', state, { shell: true })).toBe(
      'for ip in 192.168.3.140 192.168.49.6',
    );
    expect(resolvePath(state, ['pods', 'kuard-dbdd7955d-5r757', 'ip'])).toEqual({
      ok: true,
      value: '192.168.49.6',
    });
    expect(resolvePath(state, ['pods', 'length'])).toEqual({ ok: true, value: 2 });
  });

  it('quotes captured values in commands so they stay data', () => {
    const cmd = substitute('echo {{hostile.name}}', state, { shell: true });
    expect(cmd).toBe("echo '$(touch /tmp/pwned); echo'");
    // In messages (not commands) the value is shown as it is.
    expect(substitute('pod {{hostile.name}}', state, { shell: false })).toBe('pod $(touch /tmp/pwned); echo');
  });

  it('an unresolved variable says which part is missing and what is there', () => {
    const attempt = (text: string): string => {
      try {
        substitute(text, state, { shell: true });
        return 'resolved';
      } catch (e) {
        expect(e).toBeInstanceOf(UnresolvedVariableError);
        return (e as Error).message;
      }
    };
    expect(attempt('{{pods[5].name}}')).toBe(
      '{{pods[5].name}} cannot be resolved: pods has 2 item(s), no [5]',
    );
    expect(attempt('{{services.nginx.clusterIP}}')).toBe(
      '{{services.nginx.clusterIP}} cannot be resolved: services has no "nginx" (known: kuard)',
    );
    expect(attempt('{{endpoints[0].ip}}')).toMatch(/the state has no "endpoints" \(known: pods, services,/);
    expect(attempt('{{objectValue}}')).toMatch(/the value is an object; name a field/);
  });
});
