// The command line as a user meets it: --help (checked against the README's table), --version, and every kind
// of bad input exiting non-zero with a message that names the flag (or variable) and what it expects.
import { afterEach, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { killAll, ROOT, runCli } from './cli-process.ts';

afterEach(killAll);

interface Row { flag: string; env: string; def: string }

/**
 * The README's "Command line" table: | `--flag` | `ENV` | default | meaning |. A row may pair several flags with
 * their variables (`--a`, `--b` | `A`, `B`); the default is the first word of its cell (the rest explains it).
 */
function readmeFlags(): Row[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Command line$/m)[1]!.split(/^## /m)[0]!;
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1]!.startsWith('`--')) continue;
    const flags = [...cells[1]!.matchAll(/`--([a-z-]+)`/g)].map((m) => m[1]!);
    const envs = [...cells[2]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
    expect(envs.length, `README row "${line}"`).toBe(flags.length);
    const def = cells[3]!.replaceAll('`', '').split(/\s+/)[0]!;
    flags.forEach((flag, i) => rows.push({ flag, env: envs[i]!, def }));
  }
  return rows;
}

/** --help's flag blocks: "  --flag [VALUE]\n      help\n      env ENV, default DEF". */
function helpFlags(help: string): Row[] {
  const rows: Row[] = [];
  const re = /^ {2}--([a-z-]+)(?: VALUE)?\n(?: {6}.*\n)*? {6}env ([A-Z_]+), default (.+)$/gm;
  for (const m of help.matchAll(re)) rows.push({ flag: m[1]!, env: m[2]!, def: m[3]!.trim() });
  return rows;
}

test('--help lists every flag of the README table with its variable and default, and exits 0', async () => {
  const r = await runCli(['--help']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  const readme = readmeFlags();
  expect(readme.length).toBeGreaterThanOrEqual(13); // the table parsed (13 flags when this test was written)
  const help = helpFlags(r.stdout);
  const byFlag = new Map(help.map((h) => [h.flag, h]));
  for (const row of readme) {
    const h = byFlag.get(row.flag);
    expect(h, `--${row.flag} missing from --help`).toBeDefined();
    expect(h!.env).toBe(row.env);
    const def = row.def.replace(/^\((.*)\)$/, '$1');
    const helpDef = h!.def.replace(/^\((.*)\)$/, '$1');
    if (def.includes('/')) {
      // Paths (credentials, data dir): --help spells out where they are resolved; it must name the same file.
      const leaf = def.split('/').filter(Boolean).pop()!;
      expect(helpDef).toContain(leaf);
    } else {
      expect(helpDef).toBe(def);
    }
  }
  // And the other way round: nothing --help offers is missing from the README.
  const documented = new Set(readme.map((r) => r.flag));
  expect(help.map((h) => h.flag).filter((f) => !documented.has(f))).toEqual([]);
  expect(r.stdout).toContain('--help, -h');
  expect(r.stdout).toContain('--version, -v');
});

test('-h is --help; `serve --help` too', async () => {
  const [a, b, c] = await Promise.all([runCli(['--help']), runCli(['-h']), runCli(['serve', '--help'])]);
  expect(b.code).toBe(0);
  expect(c.code).toBe(0);
  expect(b.stdout).toBe(a.stdout);
  expect(c.stdout).toBe(a.stdout);
});

test('--version and -v print the package.json version and exit 0', async () => {
  const [a, b] = await Promise.all([runCli(['--version']), runCli(['-v'])]);
  for (const r of [a, b]) {
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(new RegExp(`^rtms-mock ${pkg.version.replaceAll('.', '\\.')}(\\s|$)`));
  }
});

// [args, env, what stderr must say]. Each must exit 2 without starting a server.
const BAD: [string, string[], Record<string, string>, RegExp][] = [
  ['unknown flag', ['--bogus'], {}, /Unknown option '--bogus'.*--help/],
  ['unknown command', ['launch'], {}, /unknown command "launch": use serve or client/],
  ['flag without its value', ['--port'], {}, /'--port <value>' argument missing/],
  ['boolean flag given a value', ['--start=yes'], {}, /'--start' does not take an argument/],
  ['non-numeric port', ['--port', 'abc'], {}, /--port must be an integer between 0 and 65535, got "abc"/],
  ['port out of range', ['--media-port', '65536'], {}, /--media-port must be an integer between 0 and 65535, got "65536"/],
  ['negative port', ['--port=-1'], {}, /--port must be an integer between 0 and 65535, got "-1"/],
  ['fractional port', ['--port', '80.5'], {}, /--port must be an integer between 0 and 65535, got "80.5"/],
  ['empty port (not 0)', ['--port', ''], {}, /--port must be an integer between 0 and 65535, got ""/],
  ['hex port', ['--port', '0x50'], {}, /--port must be an integer between 0 and 65535, got "0x50"/],
  ['keep-alive below its minimum', ['--keepalive-ms', '5'], {}, /--keepalive-ms must be an integer between 10 and 3600000, got "5"/],
  ['zero webhook attempts', ['--webhook-attempts', '0'], {}, /--webhook-attempts must be an integer between 1 and 20, got "0"/],
  ['unknown log level', ['--log-level', 'loud'], {}, /--log-level must be debug, info, warn, error or silent, got "loud"/],
  ['webhook that is not http(s)', ['--webhook', 'ftp://example.test/x'], {}, /--webhook must be an http:\/\/ or https:\/\/ URL, got "ftp:\/\/example.test\/x"/],
  ['webhook without scheme', ['--webhook', 'localhost:3000/hook'], {}, /--webhook must start with http:\/\/ or https:\/\/.*did you mean "http:\/\/localhost:3000\/hook"/],
  ['--start without --webhook', ['--start'], {}, /--start needs --webhook URL/],
  ['missing data directory', ['--data-dir', '/nonexistent/rtms-data'], {}, /data directory \/nonexistent\/rtms-data does not exist \(--data-dir/],
  // Bad values from the environment name the variable, so a stray export is easy to find.
  ['bad port in the environment', [], { RTMS_MOCK_PORT: 'abc' }, /RTMS_MOCK_PORT \(--port\) must be an integer between 0 and 65535, got "abc"/],
  ['bad log level in the environment', [], { RTMS_MOCK_LOG_LEVEL: 'loud' }, /RTMS_MOCK_LOG_LEVEL \(--log-level\) must be debug, info, warn, error or silent, got "loud"/],
  ['bad webhook in the environment', [], { RTMS_MOCK_WEBHOOK_URL: 'ws://127.0.0.1:1/x' }, /RTMS_MOCK_WEBHOOK_URL \(--webhook\) must be an http:\/\/ or https:\/\/ URL.*webhooks are HTTP POSTs/],
  // A boolean variable that is neither true nor false is an error, not a silent "false".
  ['bad boolean in the environment', [], { RTMS_MOCK_START: 'maybe' }, /RTMS_MOCK_START \(--start\) must be true or false, got "maybe"/],
  ['boolean variable 1 means true', [], { RTMS_MOCK_START: '1' }, /--start needs --webhook URL/],
];

for (const [name, args, env, message] of BAD) {
  test(`exit 2 with a clear message: ${name}`, async () => {
    // --port/--media-port 0 in the environment: should the bad input be accepted, nothing collides and the
    // process is killed by the timeout (code null), failing the test rather than hanging it.
    const r = await runCli(args, { RTMS_MOCK_PORT: '0', RTMS_MOCK_MEDIA_PORT: '0', ...env }, 5000);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^rtms-mock: /);
    expect(r.stdout).not.toContain('listening');
    expect(r.code).toBe(2);
  });
}
