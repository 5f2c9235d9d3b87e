/** A version as one file that runs without the service: GET …/versions/{version}/export?format=onnx. */
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { ModelRegistry } from '../../encoder/registry.js';
import type { Exporter } from '../../export/exporter.js';
import { EXPORT_FORMATS, onnxExportOf } from '../../export/onnx-export.js';
import type { Store } from '../../store/types.js';
import { clientGone } from '../encoding.js';
import { versionNotFound, versionOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { taskParam, versionParam } from '../schemas/params.js';

const exportQuery = z
  .object({
    format: z
      .enum(EXPORT_FORMATS, { error: (issue) => `"${String(issue.input)}" is not an export format; supported: ${EXPORT_FORMATS.join(', ')}` })
      .default('onnx')
      .describe(`The file's format: ${EXPORT_FORMATS.join(', ')} (default onnx).`),
  })
  .strict();

export function exportRoutes(store: Store, models: ModelRegistry, exporter: Exporter): Route[] {
  return [
    route({
      method: 'get',
      path: '/v1/tasks/:task/versions/:version/export',
      tag: 'versions',
      scope: 'read',
      summary: 'The version as one ONNX model: token ids in, the probabilities the service gives out.',
      description: [
        "Inputs input_ids and attention_mask (int64 [batch, sequence]): the ids of the model's tokenizer.json, [CLS] … [SEP], at most max_tokens of them, right-padded and masked with 0.",
        "Outputs probabilities (float32 [batch, labels], as the predict route gives them) and label (int64 [batch], an index into labels), or for a multi-label version predicted (bool [batch, labels]: each probability at or above its label's threshold).",
        "Metadata: labels (a JSON array: the columns' order), task, version, head_type, feature_spec, model, max_tokens, and a multi-label version's thresholds.",
        "Standard ONNX operators only (opset 17, and ai.onnx.ml's TreeEnsembleClassifier for forests), none of onnxruntime's own.",
        "A fine-tuned version's file holds its tuned layers in place of the frozen ones.",
        'About the size of the encoder (90 MB for all-MiniLM-L6-v2); built on request.',
      ].join(' '),
      params: { task: taskParam, version: versionParam },
      query: exportQuery,
      responses: {
        200: {
          description: 'The ONNX model.',
          mediaType: 'application/octet-stream',
          headers: { 'Content-Disposition': 'attachment; filename="<task>-v<version>.onnx"' },
        },
        409: { description: "The version's head type has no export (export_unsupported), or its model is not loaded on this replica (model_unavailable)." },
        429: { description: 'This replica is building as many exports as it may (TRANSFERD_MAX_EXPORTS): overloaded, retry after Retry-After.' },
      },
      handler: async ({ params, client, res }) => {
        const { task, version } = await versionOf(store, client, params.task, params.version);
        // Refused before anything is read or started: the head type's export is the one thing the version may lack.
        onnxExportOf(version.headType);
        const encoder = models.get(version.spec.model);
        if (!encoder) throw new DomainError('model_unavailable', `the version's model ${version.spec.model} is not loaded on this replica`);
        const artifactGzip = await store.getArtifactBytes(task.clientId, task.id, version.number);
        const tunedStackGzip = version.tuned ? await store.getTunedStack(task.clientId, version.id) : undefined;
        if (!artifactGzip || (version.tuned && !tunedStackGzip)) throw versionNotFound(task.id, version.number);
        await exporter.build(
          {
            modelDir: encoder.modelDir,
            manifest: encoder.manifest,
            spec: version.spec,
            labels: version.labels,
            headType: version.headType,
            artifactGzip,
            ...(tunedStackGzip ? { tunedStackGzip } : {}),
            task: task.id,
            version: version.number,
          },
          async (bytes) => {
            res
              .type('application/octet-stream')
              .set('Content-Disposition', `attachment; filename="${task.id}-v${version.number}.onnx"`)
              .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
            // The bytes are held until written: the export keeps its place until then.
            await finished(res).catch(() => undefined);
          },
          clientGone(res),
        );
      },
    }),
  ];
}
