import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * sha256 (hex) and size of a file, streamed so a multi-GB corpus is never held in memory. Recorded next
 * to every result so a sweep can be traced back to the exact bytes it ran on.
 */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
