/** The redactor and the failure descriptions: no credential in any form survives, and the wording names things. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeKubeFailure, redactor, type KubeTarget } from '../../src/kube/index.js';

const target: KubeTarget = {
  context: 'prod',
  user: 'admin',
  server: 'https://10.0.8.10:6443',
  serverName: '10.0.8.10',
  via: 'bastion',
};

describe('redactor', () => {
  it('removes tokens, passwords, basic auth, and client keys in base64 and PEM form', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labdeck-kube-key-'));
    try {
      execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'k.pem')], {
        stdio: 'pipe',
      });
      const pem = readFileSync(join(dir, 'k.pem'), 'utf8');
      const keyData = Buffer.from(pem).toString('base64');
      const body = pem.split('\n')[1]!;
      const redact = redactor([
        { name: 'a', token: 'sekret-token-123456' },
        { name: 'b', username: 'bob', password: 'hunter2hunter2' },
        { name: 'c', keyData },
      ]);
      const basic = Buffer.from('bob:hunter2hunter2').toString('base64');
      const text = `token sekret-token-123456 pw hunter2hunter2 basic ${basic} key ${keyData} pem ${body} Authorization: Bearer other.jwt.value`;
      const out = redact(text);
      for (const secret of ['sekret-token-123456', 'hunter2hunter2', basic, keyData, body, 'other.jwt.value'])
        expect(out).not.toContain(secret);
      expect(out).toContain('[redacted]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('describeKubeFailure', () => {
  const id = (s: string) => s;
  it('names the user and context on 401, and what RBAC said on 403', () => {
    expect(describeKubeFailure({ code: 401 }, target, 'list pods', id).message).toBe(
      'list pods: the API server https://10.0.8.10:6443 did not accept the credentials of user "admin" (context "prod"): 401 Unauthorized. Check the user\'s token or client certificate in the kubeconfig (it may have expired).',
    );
    const f = describeKubeFailure(
      {
        code: 403,
        body: JSON.stringify({ message: 'pods is forbidden: User "admin" cannot list resource "pods"' }),
      },
      target,
      'list pods',
      id,
    );
    expect(f).toMatchObject({ code: 'forbidden', where: 'prod' });
    expect(f.message).toContain('(pods is forbidden: User "admin" cannot list resource "pods")');
  });

  it('says unreachable through the tunnel, and TLS failures by the name checked', () => {
    const e = Object.assign(
      new Error('request to https://10.0.8.10:6443/api/v1/pods failed, reason: connect'),
      {
        code: 'ECONNREFUSED',
      },
    );
    expect(describeKubeFailure(e, target, 'list pods', id).message).toBe(
      'list pods: cannot reach the API server https://10.0.8.10:6443 through the SSH tunnel via bastion (ECONNREFUSED). Is the server up and the address right (context "prod")?',
    );
    const t = Object.assign(new Error('Hostname/IP does not match'), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(describeKubeFailure(t, target, 'watch pods', id)).toMatchObject({
      code: 'tls-failed',
      where: 'https://10.0.8.10:6443',
    });
  });

  it('turns a tunnel that cannot open into a tunnel failure, not a TLS or network guess', () => {
    const e = Object.assign(new Error('the SSH tunnel via bastion could not reach 10.0.8.10:6443: refused'), {
      code: 'LABDECK_TUNNEL',
    });
    expect(describeKubeFailure(e, target, 'list pods', id)).toMatchObject({ code: 'tunnel-failed' });
  });
});
