/** The export worker's API (see ../workers/channel.ts). */
import type { CallContext, Reply } from '../workers/protocol.js';
import type { OnnxExportSource } from './onnx-export.js';

export interface ExportArgs extends Omit<OnnxExportSource, 'artifact' | 'tunedStack'> {
  /** The artifact as the store keeps it (gzip-compressed JSON), unpacked in the worker: a large one takes a while to parse. */
  artifactGzip: Uint8Array;
  /** A fine-tuned version's stack as the store keeps it (encodeTunedStack's bytes), decoded in the worker. */
  tunedStackGzip?: Uint8Array;
}

export type ExportApi = {
  /** The ONNX file's bytes, moved to the caller. */
  build(args: ExportArgs, call: CallContext): Promise<Reply<Uint8Array>>;
};
