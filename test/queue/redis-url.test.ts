import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { LayerlabError } from '../../src/util/errors.js';
import { connectRedis, parseQueueUrl, queueUrlFrom, redactQueueArgs } from '../../src/queue/redis-url.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-server.js';

const SECRET = 's3cr:et/pw';
const PW = encodeURIComponent(SECRET);

test('parseQueueUrl reads host, port, db, user and password; display hides the password', () => {
  const t = parseQueueUrl(`redis://alice:${encodeURIComponent(SECRET)}@cache.example:6380/3`);
  assert.equal(t.connection.host, 'cache.example');
  assert.equal(t.connection.port, 6380);
  assert.equal(t.connection.db, 3);
  assert.equal(t.connection.username, 'alice');
  assert.equal(t.connection.password, SECRET);
  assert.equal(t.connection.tls, undefined);
  assert.equal(t.connection.maxRetriesPerRequest, null);
  assert.ok(typeof t.connection.connectTimeout === 'number' && t.connection.connectTimeout > 0 && t.connection.connectTimeout <= 10_000);
  assert.equal(t.display, 'redis://alice:***@cache.example:6380/3');
});

test('parseQueueUrl: password only, default port and db 0, IPv6, rediss turns TLS on', () => {
  const a = parseQueueUrl('redis://:pw@127.0.0.1');
  assert.deepEqual([a.connection.host, a.connection.port, a.connection.db, a.connection.username, a.connection.password], ['127.0.0.1', 6379, 0, undefined, 'pw']);
  assert.equal(a.display, 'redis://:***@127.0.0.1:6379');
  const b = parseQueueUrl('redis://[::1]:7000/');
  assert.deepEqual([b.connection.host, b.connection.port, b.connection.db], ['::1', 7000, 0]);
  assert.equal(b.display, 'redis://[::1]:7000');
  const c = parseQueueUrl('rediss://redis.internal:6390/1');
  assert.deepEqual(c.connection.tls, { servername: 'redis.internal' });
  assert.equal(c.display, 'rediss://redis.internal:6390/1');
  assert.deepEqual(parseQueueUrl('rediss://10.0.0.5:6390').connection.tls, {}); // no SNI for an IP
});

test('bad queue URLs: one line naming --queue, never the password', () => {
  const cases: [string, RegExp][] = [
    [`http://:${PW}@host:6379`, /unsupported scheme "http"/],
    [`redis://:${PW}@host:0`, /port must be 1-65535/],
    [`redis://:${PW}@host:70000`, /port|not a URL/],
    [`redis://:${PW}@host:6379/abc`, /database must be a number/],
    [`redis://:${PW}@host:6379/1/2`, /database must be a number/],
    [`redis://:${PW}@host:6379/0?tls=1`, /no query/],
    ['redis://alice@host:6379', /needs a password/],
    [`:${SECRET}@host:6379`, /not a URL|unsupported scheme/],
    ['localhost:6379', /unsupported scheme/],
    [`redis://:${SECRET}@host:6379`, /not a URL|port/], // unescaped: the parser cannot even split it
    ['', /not a URL/],
  ];
  for (const [url, why] of cases) {
    assert.throws(() => parseQueueUrl(url), (e: unknown) => {
      assert.ok(e instanceof LayerlabError, url);
      assert.match(e.message, /^--queue /, url);
      assert.match(e.message, why, url);
      assert.ok(!e.message.includes(SECRET) && !e.message.includes(encodeURIComponent(SECRET)) && !e.message.includes('s3cr'), e.message);
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
  }
});

test('redactQueueArgs hides the password of every Redis URL in a command line, and nothing else', () => {
  assert.deepEqual(
    redactQueueArgs(['sweep', '--queue', `redis://alice:${PW}@h:6379/2`, `--queue=rediss://:${PW}@h:6380`, '--out', 'a:b@c', 'redis://h:6379']),
    ['sweep', '--queue', 'redis://alice:***@h:6379/2', '--queue=rediss://:***@h:6380', '--out', 'a:b@c', 'redis://h:6379'],
  );
});

test('queueUrlFrom: the flag wins, else LAYERLAB_QUEUE, an empty variable is unset', () => {
  const saved = process.env.LAYERLAB_QUEUE;
  try {
    process.env.LAYERLAB_QUEUE = 'redis://env:1';
    assert.equal(queueUrlFrom('redis://flag:2'), 'redis://flag:2');
    assert.equal(queueUrlFrom(undefined), 'redis://env:1');
    process.env.LAYERLAB_QUEUE = '';
    assert.equal(queueUrlFrom(undefined), undefined);
    delete process.env.LAYERLAB_QUEUE;
    assert.equal(queueUrlFrom(undefined), undefined);
  } finally {
    if (saved === undefined) delete process.env.LAYERLAB_QUEUE;
    else process.env.LAYERLAB_QUEUE = saved;
  }
});

let server: RedisServer;
before(async () => { server = await startRedis({ password: SECRET }); });
after(async () => { await server?.stop(); });

test('connectRedis against a real server: the right password connects and answers', async () => {
  const redis = await connectRedis(parseQueueUrl(server.url));
  try {
    assert.equal(await redis.ping(), 'PONG');
    await redis.set('k', 'v');
    assert.equal(await redis.get('k'), 'v');
  } finally {
    redis.disconnect();
  }
});

test('connectRedis: a wrong or a missing password is one line, without the password', async () => {
  const wrong = 'not-the-password-42';
  for (const url of [`redis://:${wrong}@127.0.0.1:${server.port}`, `redis://127.0.0.1:${server.port}`]) {
    const target = parseQueueUrl(url);
    await assert.rejects(connectRedis(target), (e: unknown) => {
      assert.ok(e instanceof LayerlabError);
      assert.equal(e.message.split('\n').length, 1);
      assert.match(e.message, new RegExp(`^Redis at redis://(:\\*\\*\\*@)?127\\.0\\.0\\.1:${server.port} refused the password`));
      assert.ok(!e.message.includes(wrong) && !e.message.includes(SECRET), e.message);
      return true;
    });
  }
});

test('connectRedis: nothing listening is one line naming the address, within the timeout', async () => {
  const port = await freePort();
  const target = parseQueueUrl(`redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${port}`);
  await assert.rejects(connectRedis(target, { timeoutMs: 3000 }), (e: unknown) => {
    assert.ok(e instanceof LayerlabError);
    assert.equal(e.message, `cannot reach Redis at redis://:***@127.0.0.1:${port}: connection refused`);
    return true;
  });
});
