/**
 * The thread that builds one export: reads the encoder's graph, adds the
 * features and the head, encodes the file and hands its bytes over (moved,
 * not copied). A thread, because decoding and encoding ~90 MB and parsing a
 * large artifact would stall every request on the event loop; one per export,
 * so that what it allocated goes when it exits.
 */
import { decodeTunedStack } from '../encoder/tuned-stack.js';
import { unpackArtifact } from '../store/artifact.js';
import { reply, serve } from '../workers/serve.js';
import { buildOnnxExport, onnxExportOf } from './onnx-export.js';
import type { ExportApi } from './export-protocol.js';

serve<ExportApi>({
  build: async ({ artifactGzip, tunedStackGzip, ...source }) => {
    onnxExportOf(source.headType); // what cannot be exported is refused before the artifact is unpacked
    const tunedStack = tunedStackGzip ? decodeTunedStack(tunedStackGzip) : undefined;
    const bytes = await buildOnnxExport({ ...source, artifact: await unpackArtifact(artifactGzip), ...(tunedStack ? { tunedStack } : {}) });
    // Only a buffer of its own can be moved; the encoder writes one, but a view into a shared pool would be copied.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    return reply(own, [own.buffer as ArrayBuffer]);
  },
});
