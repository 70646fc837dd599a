import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AsciicastRecorder,
  formatAsciicastEvent,
  formatAsciicastHeader,
  parseAsciicast,
} from '../../src/terminal/asciicast.js';

describe('asciicast v2 format', () => {
  it('writes a JSON header line and [time, code, data] event lines', () => {
    expect(formatAsciicastHeader({ version: 2, width: 80, height: 24 })).toBe(
      '{"version":2,"width":80,"height":24}\n',
    );
    expect(formatAsciicastEvent(1.23456789, 'o', 'hi\r\n\x1b[0m')).toBe(
      '[1.234568,"o","hi\\r\\n\\u001b[0m"]\n',
    );
    expect(formatAsciicastEvent(-1, 'r', '100x30')).toBe('[0,"r","100x30"]\n');
  });

  it('parses what it writes and points at a bad line', () => {
    const text =
      formatAsciicastHeader({ version: 2, width: 10, height: 5 }) + formatAsciicastEvent(0.5, 'm', 'x');
    expect(parseAsciicast(text).events).toEqual([[0.5, 'm', 'x']]);
    expect(() => parseAsciicast(text + '[1,"z","x"]\n')).toThrow(/line 3/);
    expect(() => parseAsciicast('{"version":1}\n')).toThrow(/version 1/);
  });
});

describe('AsciicastRecorder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'labdeck-terminal-cast-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function clock(): () => number {
    let t = 1_700_000_000_000;
    return () => (t += 250);
  }

  it('records output, resize, markers and (when asked) input, in a 0600 file', async () => {
    const file = join(dir, 'a.cast');
    const rec = await AsciicastRecorder.open(
      file,
      { width: 80, height: 24, title: 't' },
      { now: clock(), input: true },
    );
    rec.output('$ ');
    rec.input('ls\r');
    rec.marker('$ ls');
    rec.output('a b\r\n');
    rec.resize(100, 30);
    await rec.close();
    const cast = parseAsciicast(readFileSync(file, 'utf8'));
    expect(cast.header).toEqual({ version: 2, width: 80, height: 24, title: 't' });
    expect(cast.events).toEqual([
      [0.25, 'o', '$ '],
      [0.5, 'i', 'ls\r'],
      [0.75, 'm', '$ ls'],
      [1, 'o', 'a b\r\n'],
      [1.25, 'r', '100x30'],
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('records no input unless asked, none while paused, none after a password prompt until Enter', async () => {
    const file = join(dir, 'b.cast');
    const rec = await AsciicastRecorder.open(file, { width: 80, height: 24 }, { now: clock(), input: true });
    rec.output('[sudo] password for root: ');
    rec.input('hunter2');
    rec.input('\r');
    rec.output('\r\n$ ');
    rec.input('ok');
    rec.inputPaused = true;
    rec.input('secret');
    rec.inputPaused = false;
    rec.output('Enter passphrase for key \x1b[1m/root/.ssh/id\x1b[0m: ');
    rec.input('pp\r');
    await rec.close();
    const inputs = parseAsciicast(readFileSync(file, 'utf8')).events.filter((e) => e[1] === 'i');
    expect(inputs.map((e) => e[2])).toEqual(['ok']);

    const off = await AsciicastRecorder.open(
      join(dir, 'c.cast'),
      { width: 80, height: 24 },
      { now: clock(), input: false },
    );
    off.input('ls\r');
    await off.close();
    expect(parseAsciicast(readFileSync(join(dir, 'c.cast'), 'utf8')).events).toEqual([]);
  });

  it('says clearly when it cannot write', async () => {
    await expect(
      AsciicastRecorder.open(
        join(dir, 'no', 'such', 'x.cast'),
        { width: 1, height: 1 },
        { now: clock(), input: false },
      ),
    ).rejects.toThrow(/cannot record to .*x\.cast/);
  });
});
