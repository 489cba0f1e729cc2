import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis-server.js';

/** True when something accepts TCP connections on the loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function withClient<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => {}); // commands report their own errors
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

test('harness: a server on a free loopback port with AOF keeps its data across SIGKILL and restart; stop removes it', async () => {
  const server = await startRedis({ aof: true });
  try {
    assert.match(server.url, new RegExp(`^redis://127\\.0\\.0\\.1:${server.port}$`));
    assert.ok(server.port > 0 && server.port !== 6379);
    await withClient(server.url, async (r) => {
      assert.equal(await r.config('GET', 'appendonly').then((v) => (v as string[])[1]), 'yes');
      assert.equal(await r.config('GET', 'bind').then((v) => (v as string[])[1]), '127.0.0.1');
      await r.set('survives', '42');
    });
    server.kill();
    await server.restart();
    assert.equal(await withClient(server.url, (r) => r.get('survives')), '42');
    await server.restart(); // graceful stop + start, same port and folder
    assert.equal(await withClient(server.url, (r) => r.get('survives')), '42');
    assert.ok(readdirSync(server.dir).length > 0); // the AOF folder lives there
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(server.dir), false);
  assert.equal(await listening(server.port), false);
});

test('harness: without AOF a killed server comes back empty; a password is in the URL and required', async () => {
  const server = await startRedis({ password: 'pw word' });
  try {
    assert.equal(server.url, `redis://:pw%20word@127.0.0.1:${server.port}`);
    await withClient(`redis://127.0.0.1:${server.port}`, (r) => assert.rejects(r.get('x'), /NOAUTH/));
    await withClient(server.url, (r) => r.set('gone', '1'));
    server.kill();
    await server.restart();
    assert.equal(await withClient(server.url, (r) => r.get('gone')), null);
  } finally {
    await server.stop();
  }
});
