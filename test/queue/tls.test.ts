/**
 * rediss://: a TLS-only redis-server with a certificate from a test CA. The client checks the server's
 * certificate against the CAs it trusts (NODE_EXTRA_CA_CERTS adds the test CA) and the host name of the
 * URL; without the CA the connection is refused with one line, no password.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/shared.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const PASSWORD = 'tls-test-password';
const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
let server: RedisServer;
before(async () => { server = await startRedis({ password: PASSWORD, tls: true }); });
after(async () => { await server?.stop(); });

function status(url: string, env: Record<string, string | undefined>) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  const r = spawnSync(process.execPath, [main, 'queue', 'status', '--queue', url], { encoding: 'utf8', env: e });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('rediss:// with the CA trusted: connects by name (SNI) and by address', () => {
  for (const host of ['localhost', '127.0.0.1']) {
    const r = status(`rediss://:${PASSWORD}@${host}:${server.port}`, { NODE_EXTRA_CA_CERTS: server.caFile });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `queue rediss://:***@${host}:${server.port}\nno runs\nworkers: 0 live\n`);
  }
});

test('rediss:// to a server whose certificate is not trusted, or redis:// to a TLS port: one line, exit 2, no password', () => {
  const untrusted = status(`rediss://:${PASSWORD}@localhost:${server.port}`, { NODE_EXTRA_CA_CERTS: undefined });
  assert.equal(untrusted.code, 2);
  assert.match(untrusted.stderr, new RegExp(`^layerlab: cannot reach Redis at rediss://:\\*\\*\\*@localhost:${server.port}: .*certificate.*\\n$`));
  const plain = status(`redis://:${PASSWORD}@127.0.0.1:${server.port}`, { NODE_EXTRA_CA_CERTS: undefined });
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, new RegExp(`^layerlab: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}: [^\\n]+\\n$`));
  for (const r of [untrusted, plain]) assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD));
});
