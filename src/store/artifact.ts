/** Head artifacts are portable JSON, stored gzip-compressed (model text and weights compress well). */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Compresses on libuv's thread pool, so a large artifact does not stall the event loop. */
export async function packArtifact(artifact: unknown): Promise<{ bytes: Buffer; jsonBytes: number }> {
  const json = Buffer.from(JSON.stringify(artifact), 'utf8');
  return { bytes: await gzipAsync(json, { level: 6 }), jsonBytes: json.byteLength };
}

export async function unpackArtifact(bytes: Uint8Array): Promise<unknown> {
  return JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as unknown;
}
