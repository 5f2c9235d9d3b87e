/**
 * The JSON the console reads, typed by the service's own response schemas
 * (src/http/schemas/, the ones that validate nothing but document every
 * answer in /openapi.json): a field the API does not declare does not
 * compile. Type-only imports, erased by esbuild: nothing of the server
 * reaches the bundle (test/unit/layers.test.ts holds the console to that).
 */
import type { z } from 'zod';
import type { listEnvelope } from '../../../src/http/schemas/common.js';
import type { embeddingsResponse } from '../../../src/http/schemas/embedding.js';
import type { evaluationRowOut, mapOut } from '../../../src/http/schemas/evaluation.js';
import type { deletionOut, exampleOut, uploadOut } from '../../../src/http/schemas/example.js';
import type { headsOut, headTypeOut, paramSchemaOut } from '../../../src/http/schemas/head.js';
import type { jobOut } from '../../../src/http/schemas/job.js';
import type { confusionMatrixOut, perLabelOut } from '../../../src/http/schemas/metrics.js';
import type { modelsResponse } from '../../../src/http/schemas/model.js';
import type { multiOut, prediction, predictOut, suggestionsOut } from '../../../src/http/schemas/prediction.js';
import type { poolTextOut, poolUploadOut } from '../../../src/http/schemas/pool.js';
import type { taskOut } from '../../../src/http/schemas/task.js';
import type {
  candidatesOut,
  fineTuneReportOut,
  layerChoiceOut,
  layerSweepOut,
  learningCurveOut,
  searchOut,
  versionOut,
  versionSummaryOut,
} from '../../../src/http/schemas/version.js';

/** A page of a list route. */
type Page<T extends z.ZodType> = z.output<ReturnType<typeof listEnvelope<T>>>;

export type Task = z.output<typeof taskOut>;
export type TaskList = Page<typeof taskOut>;

export type Example = z.output<typeof exampleOut>;
export type ExampleList = Page<typeof exampleOut>;
export type UploadResult = z.output<typeof uploadOut>;
export type Deletion = z.output<typeof deletionOut>;

export type Job = z.output<typeof jobOut>;
export type JobList = Page<typeof jobOut>;
export type JobState = Job['state'];

export type HeadType = z.output<typeof headTypeOut>;
export type HeadList = z.output<typeof headsOut>;
export type ParamSchema = z.output<typeof paramSchemaOut>;

export type Version = z.output<typeof versionOut>;
export type VersionSummary = z.output<typeof versionSummaryOut>;
export type VersionList = Page<typeof versionSummaryOut>;
export type VersionMetrics = Version['metrics'];
export type PerLabel = z.output<typeof perLabelOut>;
export type ConfusionMatrix = z.output<typeof confusionMatrixOut>;
export type LayerChoice = z.output<typeof layerChoiceOut>;
export type LayerSweepReport = z.output<typeof layerSweepOut>;
export type LayerSweepResult = LayerSweepReport['results'][number];
export type SearchReport = z.output<typeof searchOut>;
export type LearningCurveReport = z.output<typeof learningCurveOut>;
export type FineTuneReport = z.output<typeof fineTuneReportOut>;
export type CandidatesReport = z.output<typeof candidatesOut>;
export type FineTuneProgress = NonNullable<Job['progress']['fine_tune']>;

export type EvaluationRow = z.output<typeof evaluationRowOut>;
export type EvaluationPage = Page<typeof evaluationRowOut>;
export type ExampleMap = z.output<typeof mapOut>;
export type MapPoint = ExampleMap['points'][number];

export type Prediction = z.output<typeof prediction>;
export type TaskPredictions = z.output<typeof predictOut>;
export type MultiPredictions = z.output<typeof multiOut>;
export type Suggestions = z.output<typeof suggestionsOut>;
export type Suggestion = Suggestions['data'][number];
export type PoolUpload = z.output<typeof poolUploadOut>;
export type PoolList = Page<typeof poolTextOut>;

export type ModelList = z.output<typeof modelsResponse>;
export type Model = ModelList['data'][number];
export type Embeddings = z.output<typeof embeddingsResponse>;
