/** What tests of an exported ONNX file need: the download, the model's token ids, the file's metadata and operator domains. */
import { AutoTokenizer, env } from '@huggingface/transformers';
import type { Express } from 'express';
import type onnxProto from 'onnx-proto';
import request from 'supertest';
import { DEFAULT_MODEL } from '../../src/config.js';
import { encoderFeeds } from '../../src/encoder/feeds.js';

env.allowRemoteModels = false;
env.localModelPath = 'models/';
const tokenizer = await AutoTokenizer.from_pretrained(DEFAULT_MODEL, { local_files_only: true });

/** Collects a binary body (supertest parses only text and JSON). */
const binary = (res: NodeJS.ReadableStream, done: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
};

export const downloadFile = (app: Express, path: string) =>
  request(app)
    .get(path)
    .buffer(true)
    .parse(binary as unknown as Parameters<request.Test['parse']>[0]);

/**
 * Token ids as the service makes them (encoder/encoder-worker.ts): [CLS] … [SEP],
 * an over-long text cut to its first max_tokens − 1 ids and [SEP]; right-padded
 * with 0, and masked.
 */
export function tokenizeForExport(texts: string[], maxTokens: number) {
  const sep = tokenizer.sep_token_id as number;
  const seqs = texts.map((t) => {
    const ids = tokenizer.encode(t) as number[];
    return ids.length <= maxTokens ? ids : [...ids.slice(0, maxTokens - 1), sep];
  });
  const { input_ids, attention_mask } = encoderFeeds(seqs).feeds;
  return {
    input_ids,
    attention_mask,
    longest: Math.max(...texts.map((t) => (tokenizer.encode(t) as number[]).length)),
  };
}

export const metadataOf = (model: onnxProto.onnx.ModelProto) => Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));

/** Every op domain the graph uses, subgraphs included. */
export function domains(nodes: onnxProto.onnx.INodeProto[]): Set<string> {
  const out = new Set<string>();
  for (const n of nodes) {
    out.add(n.domain ?? '');
    for (const a of n.attribute ?? []) if (a.g) for (const d of domains(a.g.node ?? [])) out.add(d);
  }
  return out;
}
