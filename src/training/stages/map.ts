/** The map of the examples, on the features the head is trained on: the console draws it beside the evaluation. */
import { type ExampleMap, MAP_POINTS, pca2, sampleRows } from '../example-map.js';
import type { PipelineRun } from './run.js';

export async function exampleMap(run: PipelineRun, chosen: number): Promise<ExampleMap> {
  run.checkCancel();
  const { n, request } = run.input;
  const data = run.datasets[chosen]!;
  return run.timed('map', async () => pca2(data.x, data.dim, sampleRows(n, MAP_POINTS, request.seed), request.seed));
}
