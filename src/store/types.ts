/**
 * The store is the only shared state: tasks, examples, features, jobs and head
 * versions. Replicas keep caches, never truth. Every task-related record
 * carries its client; every read and write names the client it acts for.
 *
 * One interface per kind of record, so a part can ask for only what it uses;
 * `Store` is all of them. One implementation (sql-store.ts) over two
 * databases: SQLite (default, one process) and PostgreSQL (replicas).
 */
import type { TaskKind } from '../lib/task-kind.js';
import type { FeatureSpec } from '../encoder/feature-spec.js';

/** The one client of a service running without API keys, and the owner of everything stored before keys existed. */
export const DEFAULT_CLIENT = 'default';

/** What an API key may do. `admin` manages clients and keys (an operator's key, not a client's). */
export const SCOPES = ['embed', 'predict', 'train', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A client's limits; null fields take the service's defaults (configuration). */
export interface ClientLimits {
  requestsPerMinute: number | null;
  /** Encoder tokens (what its texts cost the encoder) per minute. */
  tokensPerMinute: number | null;
  maxTasks: number | null;
  /** Stored texts over all its tasks: examples and pool texts together. */
  maxExamples: number | null;
  /** UTF-8 bytes of its examples' texts and labels and its pool texts, plus its versions' stored artifacts, evaluations and tuned stacks. */
  maxStoredBytes: number | null;
  /** Training jobs of its running at once, over every replica; the rest wait in the queue. */
  maxRunningJobs: number | null;
  /** Training jobs queued or running; a request beyond it is refused. */
  maxActiveJobs: number | null;
}

export const LIMIT_FIELDS = ['requestsPerMinute', 'tokensPerMinute', 'maxTasks', 'maxExamples', 'maxStoredBytes', 'maxRunningJobs', 'maxActiveJobs'] as const;

/** Each limit's snake_case name: its column in clients, its field in the API, and the `limit` a quota error names. */
export const LIMIT_NAMES: Record<keyof ClientLimits, string> = {
  requestsPerMinute: 'requests_per_minute',
  tokensPerMinute: 'tokens_per_minute',
  maxTasks: 'max_tasks',
  maxExamples: 'max_examples',
  maxStoredBytes: 'max_stored_bytes',
  maxRunningJobs: 'max_running_jobs',
  maxActiveJobs: 'max_active_jobs',
};

/** A client of the service (a client of the store). */
export interface ClientRecord {
  id: string;
  name: string;
  limits: ClientLimits;
  createdAt: number;
}

/** An API key as stored: never the key itself, only a hash of its secret part. */
export interface KeyRecord {
  id: string;
  clientId: string;
  name: string | null;
  scopes: Scope[];
  /** SHA-256 of the key's secret, hex. */
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface NewKey {
  clientId: string;
  name: string | null;
  scopes: Scope[];
  secretHash: string;
}

/** What a client has stored, as its quotas count it. */
export interface ClientUsage {
  tasks: number;
  examples: number;
  /** Unlabelled texts in its tasks' pools (max_examples counts them with the examples). */
  poolTexts: number;
  storedBytes: number;
  runningJobs: number;
  activeJobs: number;
}

export interface TaskRecord {
  id: string;
  clientId: string;
  name: string;
  description: string | null;
  spec: FeatureSpec;
  /** Fixed at creation: whether an example carries one label or a set of them (see ./label-set.ts for how a set is stored). */
  kind: TaskKind;
  /** Labels declared at creation or described since, in declaration order. */
  labels: DeclaredLabel[];
  /** Number of the active head version, or null before the first successful training. */
  activeVersion: number | null;
  exampleCount: number;
  /** Queue a training job by itself once this many examples were added since the count started (null: never). */
  retrainAfter: number | null;
  /** Examples added since the count started: the last training job queued for the task, or retrainAfter turned on. */
  newExamples: number;
  /** Unlabelled texts in its pool. */
  poolCount: number;
  /** Raised by every change of the pool: what a label prior was estimated on. */
  poolRevision: number;
  /** The label prior last estimated on the pool for zero-shot prediction, or null. */
  labelPrior: LabelPrior | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * The labels' prior as estimated on a task's pool (serving/label-prior.ts), for version 0: stored, so that
 * every replica applies the same one, with what it was estimated from.
 */
export interface LabelPrior {
  /** The zero-shot version (its id: labels, descriptions and spec) whose probabilities it was estimated from. */
  version: string;
  /** The pool revision it was estimated on. */
  poolRevision: number;
  /** In the zero-shot version's label order, summing to 1. */
  labels: string[];
  prior: number[];
  /** Pool texts it was estimated on (the whole pool, or a sample of a large one). */
  poolTexts: number;
  iterations: number;
  estimatedAt: number;
}

/** An unlabelled text of a task, kept to be labelled later or to learn the labels' balance from. */
export interface PoolTextRecord {
  /** Its number in its task's pool (1, 2, … in the order added, never reused): the API's id. */
  id: number;
  taskId: string;
  text: string;
  textHash: string;
  createdAt: number;
}

export interface NewPoolText {
  text: string;
  textHash: string;
}

export interface AddPoolResult {
  added: number;
  /** Texts the task already has as examples. */
  labelled: number;
  /** Texts already in the pool. */
  pooled: number;
  /** Texts given more than once in the request (counted once). */
  repeated: number;
}

export interface NewTask {
  clientId: string;
  name: string;
  description: string | null;
  spec: FeatureSpec;
  /** Default single_label. */
  kind?: TaskKind;
  labels?: DeclaredLabel[];
}

export interface TaskPatch {
  name?: string;
  description?: string | null;
  spec?: FeatureSpec;
  /** The whole new list of declared labels (announced as labels_changed). */
  labels?: DeclaredLabel[];
  /** Turning it on (from null) starts the count of new examples afresh; null turns it off. */
  retrainAfter?: number | null;
  /** The job retrain_after queues while no job of the task has succeeded (after one has, that job's request is reused). */
  retrainDefault?: RetrainJob;
}

/** A training job as retrain_after queues it: the validated request, and how many attempts it gets. */
export interface RetrainJob {
  request: unknown;
  maxAttempts: number;
}

/** A label the task declares, with or without examples: what zero-shot prediction knows of it. */
export interface DeclaredLabel {
  name: string;
  description: string | null;
}

export interface ExampleRecord {
  /** Its number in its task (1, 2, … in upload order, never reused): the API's id. The row's own key never leaves the store. */
  id: number;
  taskId: string;
  text: string;
  textHash: string;
  label: string;
  createdAt: number;
}

export interface NewExample {
  text: string;
  textHash: string;
  label: string;
  /** Where the upload had it ("line 12"), for messages; default: its position in the upload. */
  at?: string;
}

/** What to do when an uploaded text is already in the task with another label (single-label: or repeated in the upload with another). */
export type ConflictPolicy = 'error' | 'skip' | 'replace';

export interface AddExamplesResult {
  inserted: number;
  /** Same text, same label: already there or earlier in the upload, nothing to do. */
  duplicates: number;
  /** Multi-label: a text earlier in the upload with another label set; its labels were added to that text's set. */
  merged: number;
  /** Same text, other label, kept as it was (`skip`). */
  skipped: number;
  /** Same text, other label, label replaced (`replace`). */
  relabelled: number;
  /** With `error`: texts already in the task with another label (nothing was written); the first few. */
  conflicts: Array<{ text: string; existingLabel: string; newLabel: string }>;
  /** With `error`, single-label: texts the upload itself gives two labels, and where (nothing was written); the first few. */
  repeats: Array<{ text: string; firstLabel: string; firstAt: string; label: string; at: string }>;
  /** The training job this upload queued by itself (the task's retrainAfter was reached), if any. */
  retrainJob?: JobRecord;
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next page, or null when this is the last. */
  next: string | null;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const FINISHED_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export type JobTrigger = 'request' | 'retrain_after';

export interface JobProgress {
  phase: string;
  /** 0..100 within the whole job. */
  percent: number;
  /** Completed phases and how long each took. */
  timings: Array<{ phase: string; ms: number }>;
  /** A fine-tuning job: its last step, and each completed epoch's loss and held-out score. */
  fineTune?: FineTuneProgress;
}

export interface FineTuneProgress {
  step: number;
  steps: number;
  epoch: number;
  epochs: number;
  loss: number;
  /** Mean loss of the epoch's steps so far. */
  runningLoss: number;
  epochsDone: Array<{ epoch: number; loss: number; seconds: number; heldOut?: { accuracy: number } | { macroF1: number } }>;
}

export interface JobError {
  code: string;
  message: string;
}

export interface JobRecord {
  id: string;
  clientId: string;
  taskId: string;
  state: JobState;
  /** The validated training request, as JSON. */
  request: unknown;
  progress: JobProgress;
  error: JobError | null;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  cancelRequested: boolean;
  versionNumber: number | null;
  /** What queued it: a client's request, or the task's retrainAfter (an upload reached it). */
  trigger: JobTrigger;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface NewJob {
  clientId: string;
  taskId: string;
  request: unknown;
  maxAttempts: number;
}

/** What training says of a head version: written with it, read back with it. */
export interface VersionFacts {
  headType: string;
  params: unknown;
  spec: FeatureSpec;
  labels: string[];
  metrics: unknown;
  /** Search grid, layer sweep and other tables the job produced. */
  report: unknown;
  exampleCount: number;
  trainingMs: number;
}

/** What a fine-tuned version's tuned layers are; the stack itself is read apart (VersionStore.getTunedStack). */
export interface TunedFacts {
  /** The tuned layers, first and last included (0-based): layer `first` reads the shared encoder's hidden state `first`. */
  first: number;
  last: number;
  /** Bytes stored (compressed): counted in the client's stored bytes. */
  storedBytes: number;
  /** Bytes its weights take loaded (fp32): what an encoder's cache of stacks counts. */
  loadedBytes: number;
}

export interface VersionRecord extends VersionFacts {
  id: string;
  clientId: string;
  taskId: string;
  number: number;
  jobId: string | null;
  createdAt: number;
  artifactBytes: number;
  /** A fine-tuned version's tuned layers; null for every other version. */
  tuned: TunedFacts | null;
}

/** A fine-tuned version's tuned layers as a job hands them to the store (`storedTunedStack` in encoder/tuned-stack.ts makes one). */
export interface NewTunedStack {
  /** encodeTunedStack's bytes (gzip of a safetensors file). */
  bytes: Uint8Array;
  first: number;
  last: number;
  loadedBytes: number;
}

export interface NewVersion extends VersionFacts {
  /** The portable JSON artifact (libsvm model text, forest toJSON, …). */
  artifact: unknown;
  /** Row by row, what the version's evaluation saw; stored beside the artifact (versions trained before it have none). */
  evaluation?: VersionEvaluation;
  /**
   * A fine-tuned version's own encoder layers. The store writes the version's spec with `tuned` naming the
   * version (its id is made in the transaction) and `first`: its features are the stack's, cached as its own.
   */
  tunedStack?: NewTunedStack;
}

/**
 * The examples a version was trained on, each with its label then and its
 * out-of-fold prediction, and the 2-D map of a sample of them. Arrays are
 * parallel, indexed by training row; labels are indices into the version's labels.
 */
export interface VersionEvaluation {
  exampleIds: number[];
  truth: number[];
  /** -1 for a row that was never held out (the training rows of a hold-out split); multi-label versions: all -1 (see the sets). */
  predicted: number[];
  /** Multi-label versions: each row's label set then (indices into the version's labels, ascending). */
  truthSets?: number[][];
  /** Multi-label versions: each row's out-of-fold set (cross-fitted thresholds); null for a row never held out. */
  predictedSets?: Array<number[] | null>;
  map: {
    method: 'pca';
    explainedVarianceRatio: [number, number];
    /** Training rows the map shows, ascending. */
    rows: number[];
    x: number[];
    y: number[];
  };
}

export interface JobOutcome {
  state: Exclude<JobState, 'queued' | 'running'>;
  error?: JobError;
  version?: NewVersion;
  /**
   * A multi-task job's versions of its other tasks, written in the same
   * transaction (and activated with the job's own, if asked); a task deleted
   * meanwhile fails the job instead.
   */
  others?: Array<{ taskId: string; version: NewVersion }>;
  /** Make the new version the task's active one in the same transaction. */
  activate?: boolean;
  /** Final progress (phase timings); default: the last heartbeat's. */
  progress?: JobProgress;
}

/** A version named in a change notice: its id keys the caches of its artifact and loaded head, its number the task's. */
export interface VersionRef {
  id: string;
  number: number;
}

/**
 * A change every replica must hear of, announced by the transaction that
 * makes it (on every replica, where the store can tell): replicas keep
 * caches of tasks and versions and run jobs, and a change made through one
 * replica concerns all of them.
 *
 * - `activated`: the task's active version changed; caches of the task go.
 * - `versions_deleted`: versions are gone; their records, artifacts and loaded
 *   heads go wherever they are cached.
 * - `task_deleted`: the task is gone with its examples, jobs and versions (its
 *   versions are also announced as deleted); a job of it that runs stops.
 * - `cancel_requested`: a running job was asked to stop; the replica running it stops it.
 * - `prior_estimated`: a new label prior was stored for the task's version 0; caches of the task go.
 * - `reset`: changes may have been missed (the notice connection was lost):
 *   drop every cache, and ask the store about running jobs.
 */
export type TaskChange =
  | { kind: 'activated'; clientId: string; taskId: string; activeVersion: number }
  | { kind: 'labels_changed'; clientId: string; taskId: string }
  | { kind: 'versions_deleted'; clientId: string; taskId: string; versions: VersionRef[] }
  | { kind: 'task_deleted'; clientId: string; taskId: string }
  | { kind: 'cancel_requested'; clientId: string; taskId: string; jobId: string }
  | { kind: 'prior_estimated'; clientId: string; taskId: string }
  | { kind: 'reset' };

/** A key revoked (or a client deleted with its keys), for every replica's key cache; keyId '*' means any key may have changed. */
export interface KeyChange {
  kind: 'key';
  keyId: string;
}

/** What transactions announce to every replica. A change without `kind` is a task's (replicas of older versions send those). */
export type StoreChange = TaskChange | KeyChange;

export function isKeyChange(change: StoreChange): change is KeyChange {
  return (change as KeyChange).kind === 'key';
}

export interface TaskStore {
  createTask(task: NewTask): Promise<TaskRecord>;
  getTask(clientId: string, taskId: string): Promise<TaskRecord | undefined>;
  listTasks(clientId: string, limit: number, after?: string): Promise<Page<TaskRecord>>;
  updateTask(clientId: string, taskId: string, patch: TaskPatch): Promise<TaskRecord | undefined>;
  /** Deletes the task with its examples, jobs and versions, and announces it (task_deleted, versions_deleted). */
  deleteTask(clientId: string, taskId: string): Promise<boolean>;
}

export interface ExampleStore {
  /**
   * All-or-nothing: with policy `error` and any conflict, nothing is written. Texts added leave the pool. When new examples take the task's
   * count to its retrainAfter, the same transaction queues a training job (unless one of the task's is queued):
   * with the request of the task's last successful job, or its retrainDefault before any.
   */
  addExamples(clientId: string, taskId: string, examples: NewExample[], policy: ConflictPolicy): Promise<AddExamplesResult>;
  /** In id order; with `label`, those that carry it (multi-label: those whose set holds it). */
  listExamples(clientId: string, taskId: string, options: { limit: number; after?: number; label?: string }): Promise<Page<ExampleRecord>>;
  getExample(clientId: string, taskId: string, exampleId: number): Promise<ExampleRecord | undefined>;
  relabelExample(clientId: string, taskId: string, exampleId: number, label: string): Promise<ExampleRecord | undefined>;
  deleteExample(clientId: string, taskId: string, exampleId: number): Promise<boolean>;
  /**
   * Deletes every example of the task, or those with `label`. A multi-label example with `label` loses it
   * (relabelled) and is deleted only when no label is left. Returns how many of each.
   */
  deleteExamples(clientId: string, taskId: string, label?: string): Promise<{ deleted: number; relabelled: number }>;
  labelCounts(clientId: string, taskId: string): Promise<Map<string, number>>;
  /** A consistent snapshot of every example, in id order (training input). */
  allExamples(clientId: string, taskId: string): Promise<ExampleRecord[]>;
  /** The task's examples with these ids, by id; ids the task no longer has are absent. */
  examplesById(clientId: string, taskId: string, ids: readonly number[]): Promise<Map<number, ExampleRecord>>;
  /** Which of `hashes` (text hashes) the task already holds as examples. */
  labelledHashes(clientId: string, taskId: string, hashes: readonly string[]): Promise<Set<string>>;
}

export interface PoolStore {
  /**
   * Adds texts to the task's pool, leaving out texts the task has as examples, texts already pooled, and
   * repeats; counted in the client's quotas like examples (all or nothing).
   */
  addPoolTexts(clientId: string, taskId: string, texts: NewPoolText[]): Promise<AddPoolResult>;
  listPool(clientId: string, taskId: string, options: { limit: number; after?: number }): Promise<Page<PoolTextRecord>>;
  /** At most `limit` pool texts, the same ones for the same pool: all of a small pool, an even spread (by text hash) of a large one. */
  poolSample(clientId: string, taskId: string, limit: number): Promise<PoolTextRecord[]>;
  /** The pool texts with these ids, by id; ids the pool no longer has are absent. */
  poolTextsById(clientId: string, taskId: string, ids: readonly number[]): Promise<Map<number, PoolTextRecord>>;
  deletePoolText(clientId: string, taskId: string, id: number): Promise<boolean>;
  /** Empties the pool; returns how many texts it held. */
  clearPool(clientId: string, taskId: string): Promise<number>;
  /** Moves a pool text to the examples with `label` (a label set's key, multi-label) in one transaction; undefined when the pool has no such text. */
  labelPoolText(clientId: string, taskId: string, id: number, label: string): Promise<ExampleRecord | undefined>;
  /**
   * Stores the label prior estimated on pool revision `prior.poolRevision` (null: none, the pool being too small), and
   * announces it (prior_estimated); false, storing nothing, when the pool has changed since.
   */
  saveLabelPrior(clientId: string, taskId: string, poolRevision: number, prior: LabelPrior | null): Promise<boolean>;
}

export interface FeatureStore {
  /** Stored features under `specKey` for the given text hashes (missing ones are absent). */
  getFeatures(specKey: string, textHashes: string[]): Promise<Map<string, Float32Array>>;
  putFeatures(specKey: string, entries: Array<[string, Float32Array]>): Promise<void>;
}

export interface JobStore {
  /** Queues a job (a client's request); the task's count of new examples (retrainAfter) starts afresh. */
  createJob(job: NewJob): Promise<JobRecord>;
  getJob(clientId: string, taskId: string, jobId: string): Promise<JobRecord | undefined>;
  listJobs(clientId: string, taskId: string, limit: number, after?: string): Promise<Page<JobRecord>>;
  /** Cancels a queued job at once, or flags a running one (and announces it); undefined when the job does not exist. */
  cancelJob(clientId: string, taskId: string, jobId: string): Promise<JobRecord | undefined>;
  /**
   * Claims the oldest runnable job: queued, or running with a lapsed lease
   * (its replica died). A claim raises the attempt count; a job whose lease
   * lapsed on its last attempt is failed instead of claimed.
   */
  claimJob(owner: string, leaseMs: number): Promise<JobRecord | undefined>;
  /** Extends the lease and saves progress; false when the job is no longer ours (lease lost, cancelled, deleted). */
  heartbeat(jobId: string, owner: string, leaseMs: number, progress: JobProgress): Promise<{ owned: boolean; cancelRequested: boolean }>;
  /** Gives a job we hold back to the queue (graceful shutdown): claimable at once, the attempt not counted. */
  releaseJob(jobId: string, owner: string): Promise<boolean>;
  /**
   * Ends a job we hold; writes its version (and activates it) in the same
   * transaction. A success of a job whose cancellation was requested is
   * recorded as cancelled, without its version. Undefined when the job is no
   * longer ours (lease lost, deleted with its task, already ended).
   */
  finishJob(jobId: string, owner: string, outcome: JobOutcome): Promise<JobRecord | undefined>;
  /**
   * Keeps what a job needs to resume after its last completed `epoch` (a fine-tuning checkpoint), replacing the one
   * before; false when the job is no longer ours. Deleted when the job ends, or with it.
   */
  saveJobCheckpoint(jobId: string, owner: string, epoch: number, bytes: Uint8Array): Promise<boolean>;
  /** The job's last checkpoint, or undefined. */
  getJobCheckpoint(jobId: string): Promise<{ epoch: number; bytes: Uint8Array } | undefined>;
}

export interface VersionStore {
  listVersions(clientId: string, taskId: string): Promise<VersionRecord[]>;
  getVersion(clientId: string, taskId: string, number: number): Promise<VersionRecord | undefined>;
  getArtifact(clientId: string, taskId: string, number: number): Promise<unknown | undefined>;
  /** The artifact as stored (gzip-compressed JSON), for a worker thread to unpack off the event loop. */
  getArtifactBytes(clientId: string, taskId: string, number: number): Promise<Uint8Array | undefined>;
  /**
   * A fine-tuned version's tuned stack as stored (encodeTunedStack's bytes), by the version's id (what its
   * feature spec names); undefined when the client has no such version, or the version has no stack.
   */
  getTunedStack(clientId: string, versionId: string): Promise<Uint8Array | undefined>;
  /** The version's row-by-row evaluation: undefined without such a version, null for one trained before evaluations were stored. */
  getEvaluation(clientId: string, taskId: string, number: number): Promise<VersionEvaluation | null | undefined>;
  activateVersion(clientId: string, taskId: string, number: number): Promise<TaskRecord | undefined>;
  /** Deletes an inactive version and announces it (versions_deleted). */
  deleteVersion(clientId: string, taskId: string, number: number): Promise<'deleted' | 'active' | 'missing'>;
  /** Calls `listener` for every change notice (made on any replica, where the store can tell). */
  onTaskChange(listener: (change: TaskChange) => void): () => void;
}

export interface ClientStore {
  createClient(name: string, limits: ClientLimits): Promise<ClientRecord>;
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  listClients(limit: number, after?: string): Promise<Page<ClientRecord>>;
  updateClient(clientId: string, patch: { name?: string; limits?: ClientLimits }): Promise<ClientRecord | undefined>;
  /** Deletes the client with its tasks (and their examples, jobs and versions), keys and cached features. */
  deleteClient(clientId: string): Promise<boolean>;
  /** What the client has stored, as its quotas count it. */
  usage(clientId: string): Promise<ClientUsage>;
  createKey(key: NewKey): Promise<KeyRecord>;
  listKeys(clientId: string): Promise<KeyRecord[]>;
  /** Marks the key revoked (it stays listed) and tells every replica; undefined when the client has no such key. */
  revokeKey(clientId: string, keyId: string): Promise<KeyRecord | undefined>;
  /** The key with this id, whoever's it is: what authentication reads. */
  findKey(keyId: string): Promise<KeyRecord | undefined>;
  /** Calls `listener` when a key is revoked or a client deleted (on any replica, where the store can tell). */
  onKeyChange(listener: (change: KeyChange) => void): () => void;
}

export interface ReplicaStore {
  /** Records that replica `id` is alive now; returns how many replicas were alive within `windowMs`. */
  replicaHeartbeat(id: string, windowMs: number): Promise<number>;
}

export interface Store extends TaskStore, ExampleStore, PoolStore, FeatureStore, JobStore, VersionStore, ClientStore, ReplicaStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations (safe when several replicas start at once). */
  migrate(): Promise<void>;
  /**
   * Throws when the database does not answer. Proves that it answers now, not
   * that it is idle: it never waits behind this process's own transactions.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
