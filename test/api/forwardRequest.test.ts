import { describe, expect, it } from 'vitest';
import { methods } from '../../src/api/contract.js';
import { formatForwardSpec, parseForwardRequest } from '../../src/api/forwardService.js';
import { ApiFailure } from '../../src/api/server.js';

function failure(f: () => unknown): ApiFailure {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiFailure) return err;
    throw err;
  }
  throw new Error('expected an ApiFailure');
}

describe('forward requests (OpenSSH -L syntax or fields)', () => {
  it("reads the seed's -L8080:localhost:8080 as a loopback listener", () => {
    // Seed: `ssh -i $KEY -A -L8080:localhost:8080 -o ProxyCommand=… ubuntu@10.0.18.181`
    expect(parseForwardRequest('8080:localhost:8080', false)).toEqual({
      bindAddress: '127.0.0.1',
      bindPort: 8080,
      remoteHost: 'localhost',
      remotePort: 8080,
    });
  });

  it('takes the spec as typed after ssh, with its -L', () => {
    const seed = { bindAddress: '127.0.0.1', bindPort: 8080, remoteHost: 'localhost', remotePort: 8080 };
    expect(parseForwardRequest('-L8080:localhost:8080', false)).toEqual(seed);
    expect(parseForwardRequest(' -L 8080:localhost:8080 ', false)).toEqual(seed);
  });

  it('takes a bind address, IPv6 in brackets, and 0 for any free local port', () => {
    expect(parseForwardRequest('[::1]:0:[fd00::5]:443', false)).toEqual({
      bindAddress: '::1',
      bindPort: 0,
      remoteHost: 'fd00::5',
      remotePort: 443,
    });
    expect(parseForwardRequest('localhost:9000:10.96.0.10:53', false).bindAddress).toBe('127.0.0.1');
    expect(
      parseForwardRequest({ bindPort: 8081, remoteHost: 'kuard.default.svc', remotePort: 80 }, false),
    ).toEqual({ bindAddress: '127.0.0.1', bindPort: 8081, remoteHost: 'kuard.default.svc', remotePort: 80 });
  });

  it('refuses ports out of range, on either side, naming the field', () => {
    expect(failure(() => parseForwardRequest('70000:localhost:80', false)).message).toMatch(/bad local port/);
    expect(failure(() => parseForwardRequest('8080:localhost:0', false)).message).toMatch(/bad remote port/);
    const f = failure(() =>
      parseForwardRequest({ bindPort: 8080, remoteHost: 'localhost', remotePort: 65536 }, false),
    );
    expect(f.code).toBe('forward-bad-spec');
    expect(f.message).toMatch(/remotePort/);
  });

  it('refuses a remote host that is not a hostname or an IP (nothing shell-like gets through)', () => {
    for (const host of ['$(id)', 'a b', '-oProxyCommand=x', 'x;rm', 'a`b`', '']) {
      const f = failure(() =>
        parseForwardRequest({ bindPort: 8080, remoteHost: host, remotePort: 80 }, false),
      );
      expect(f.code, host).toBe('forward-bad-spec');
    }
    expect(failure(() => parseForwardRequest('8080:$(id):80', false)).message).toMatch(/remoteHost/);
  });

  it('listens beyond loopback only when asked explicitly, with a warning that says who can connect', () => {
    const f = failure(() => parseForwardRequest('0.0.0.0:8080:localhost:8080', false));
    expect(f.code).toBe('forward-not-loopback');
    expect(f.message).toMatch(/other machines/);
    expect(f.where).toBe('0.0.0.0');
    // `*` is OpenSSH's "all addresses".
    expect(failure(() => parseForwardRequest('*:8080:localhost:8080', false)).code).toBe(
      'forward-not-loopback',
    );
    expect(parseForwardRequest('0.0.0.0:8080:localhost:8080', true).bindAddress).toBe('0.0.0.0');
    // A bind address must be an address (no name to resolve), except localhost.
    expect(failure(() => parseForwardRequest('myhost:8080:localhost:8080', true)).message).toMatch(
      /bindAddress/,
    );
  });

  it('prints the spec back in OpenSSH syntax', () => {
    expect(
      formatForwardSpec({ bindAddress: '::1', bindPort: 8080, remoteHost: 'fd00::5', remotePort: 80 }),
    ).toBe('[::1]:8080:[fd00::5]:80');
  });

  it('the contract rejects unknown fields and non-integer ports before dispatch', () => {
    const req = methods['forwards.open'].request;
    expect(req.safeParse({ destination: 'master', spec: '8080:localhost:8080' }).success).toBe(true);
    expect(req.safeParse({ destination: 'master', spec: '8080:localhost:8080', shell: 'x' }).success).toBe(
      false,
    );
    expect(
      req.safeParse({ destination: 'master', fields: { bindPort: 80.5, remoteHost: 'a', remotePort: 80 } })
        .success,
    ).toBe(false);
    expect(req.safeParse({ destination: '', spec: '8080:localhost:8080' }).success).toBe(false);
    // Exactly one of spec and fields.
    expect(req.safeParse({ destination: 'master' }).success).toBe(false);
    expect(
      req.safeParse({
        destination: 'master',
        spec: '8080:localhost:8080',
        fields: { bindPort: 8080, remoteHost: 'localhost', remotePort: 8080 },
      }).success,
    ).toBe(false);
  });
});
