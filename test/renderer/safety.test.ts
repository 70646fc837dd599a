import { describe, expect, it } from 'vitest';
import { isOpenableLink, sanitizePaste } from '../../renderer/src/terminal/safety.js';

describe('paste sanitising', () => {
  it('removes a bracketed-paste end marker so the rest cannot run as typed input', () => {
    expect(sanitizePaste('echo safe\x1b[201~rm -rf ~\n')).toBe('echo saferm -rf ~\n');
  });

  it('strips every ESC and 8-bit CSI, keeping the visible text', () => {
    expect(sanitizePaste('a\x1b]52;c;ZXZpbA==\x07b\x9b31mc')).toBe('a]52;c;ZXZpbA==\x07b31mc');
  });

  it('leaves ordinary text, tabs and newlines alone', () => {
    expect(sanitizePaste('kubectl get pods -o wide\n\tx')).toBe('kubectl get pods -o wide\n\tx');
  });
});

describe('links', () => {
  it('opens only http and https', () => {
    expect(isOpenableLink('https://kubernetes.io/docs/')).toBe(true);
    expect(isOpenableLink('http://127.0.0.1:8080/')).toBe(true);
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'ssh://host',
      'vscode://x',
      'not a url',
    ]) {
      expect(isOpenableLink(bad)).toBe(false);
    }
  });
});
