/**
 * Serving predictions: which version answers for a task (the active one unless
 * pinned), the features of the texts (shared across tasks with equal specs),
 * and scoring in the predict pool.
 *
 * Versions are immutable, so their records are cached until they are
 * deleted. The active version of a task is cached briefly and dropped at once
 * when the store reports a change; the expiry bounds staleness if a change
 * notice is missed. Every cache here is bounded (tasks and version records
 * by count, artifacts by bytes, the pool's heads by what its workers keep,
 * fine-tuned versions' stacks by bytes), and the store's change notices drop
 * deleted versions from all of them, on every replica.
 *
 * A fine-tuned version's spec names its stack (`tuned`, written by the store
 * with the version): its features are computed and cached as its own, the
 * shared encoder pass still running once for every spec of a call.
 */
import type { EncodeOptions } from '../encoder/encoder.js';
import { DomainError } from '../errors.js';
import { specKey } from '../encoder/feature-spec.js';
import type { FeatureService } from '../features/feature-service.js';
import { LruCache } from '../lib/lru.js';
import type { Store, TaskChange, TaskRecord, VersionRecord, VersionRef } from '../store/types.js';
import type { PredictPool } from './predict-pool.js';
import { MIN_ZERO_SHOT_LABELS } from '../heads/prototype/label-text.js';
import { appliedPrior, zeroShotTexts, zeroShotVersion } from './zero-shot.js';
import { PriorEstimates, type PriorStatus } from './prior-estimates.js';
import { prototypeArtifact } from '../heads/prototype/model.js';
import { packArtifact } from '../store/artifact.js';
import type { TunedStackCache } from './tuned-stacks.js';
import type { TypicalInput, TypicalPick } from './typical-picks.js';

export interface Target {
  task: TaskRecord;
  version: VersionRecord;
}

export interface Scored {
  target: Target;
  /** n × labels probabilities. */
  probabilities: Float32Array;
  /** n × dim: the texts' features under the version's spec (what the head scored). */
  features: Float32Array;
}

export interface PredictionOptions {
  /** How long a task's active version may be served from memory without asking the store. */
  activeTtlMs: number;
  artifactCacheBytes: number;
  /** Tasks whose records are kept in memory at once, the least recently served dropped first (default 10,000). */
  maxTasks?: number;
  /** Fine-tuned versions' stacks (read for the encoders): deleted versions' are dropped there too. */
  stacks?: TunedStackCache;
  /** A label prior's estimate failed (it runs in the background: nobody else hears of it). */
  onPriorError?: (err: unknown, task: { clientId: string; taskId: string }) => void;
}

/** Version records kept in memory: small (no artifact), so plenty. */
const MAX_VERSIONS = 10_000;

const taskKey = (clientId: string, taskId: string) => `${clientId}|${taskId}`;

export class PredictionService {
  private readonly tasks: LruCache<{ task: TaskRecord; expires: number }>;
  private readonly versions = new LruCache<VersionRecord>(MAX_VERSIONS, () => 1);
  private readonly artifacts: LruCache<Uint8Array>;
  private readonly unsubscribe: () => void;
  /** Label priors of version 0, estimated on the tasks' pools. */
  readonly priors: PriorEstimates;

  constructor(
    private readonly store: Store,
    private readonly features: FeatureService,
    private readonly pool: PredictPool,
    private readonly options: PredictionOptions,
  ) {
    this.tasks = new LruCache(options.maxTasks ?? 10_000, () => 1);
    this.artifacts = new LruCache<Uint8Array>(options.artifactCacheBytes, (b) => b.byteLength);
    this.unsubscribe = store.onTaskChange((c) => this.changed(c));
    this.priors = new PriorEstimates({
      store,
      features,
      pool,
      score: (v, x, n) => pool.predict(v.id, this.artifactBytes(v), x, n, v.artifactBytes),
      onError: options.onPriorError ?? (() => undefined),
    });
  }

  /** Tasks cached now (for tests and diagnostics). */
  get cachedTasks(): number {
    return this.tasks.size;
  }

  private changed(c: TaskChange): void {
    switch (c.kind) {
      case 'reset':
        // Changes may have been missed: any task may have a new active version, any version may be gone.
        // (Artifacts, loaded heads and stacks are reached only through a version record, so they may stay.)
        this.tasks.deletePrefix('');
        this.versions.deletePrefix('');
        return;
      case 'activated': {
        const key = taskKey(c.clientId, c.taskId);
        const served = this.tasks.get(key) !== undefined;
        this.tasks.delete(key);
        if (served) void this.prefetch(c.clientId, c.taskId);
        return;
      }
      case 'task_deleted':
        this.tasks.delete(taskKey(c.clientId, c.taskId));
        this.versions.deletePrefix(`${taskKey(c.clientId, c.taskId)}|`);
        return;
      case 'versions_deleted':
        this.dropVersions(c.clientId, c.taskId, c.versions);
        return;
      case 'labels_changed':
      case 'prior_estimated':
        // A zero-shot version is built from the task's declared labels and its stored prior: the task record goes, and with it that version.
        this.tasks.delete(taskKey(c.clientId, c.taskId));
        return;
      case 'cancel_requested':
        return;
    }
  }

  /** Forgets deleted versions everywhere they may be cached: records, artifacts, the workers' loaded heads and stacks. */
  private dropVersions(clientId: string, taskId: string, versions: VersionRef[]): void {
    for (const v of versions) {
      this.versions.delete(`${taskKey(clientId, taskId)}|${v.number}`);
      this.artifacts.delete(v.id);
    }
    this.pool.forget(versions.map((v) => v.id));
    this.options.stacks?.forget(versions.map((v) => v.id));
  }

  /**
   * Loads a task's active head into a predict worker ahead of its next request:
   * a replica that served the task will likely serve its new version, and
   * reading and parsing a large artifact (a forest's is megabytes of JSON) should
   * not fall on that request.
   */
  private async prefetch(clientId: string, taskId: string): Promise<void> {
    try {
      const target = await this.target(clientId, taskId);
      await this.pool.predict(target.version.id, this.artifactBytes(target.version), new Float32Array(0), 0, target.version.artifactBytes);
    } catch {
      // Deleted, no active version, store or pool unavailable: the next request reports it if it still holds.
    }
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * Drops what is cached about a task after a change made through this
   * replica, at once: the store's notice reaches every replica, this one
   * included, but on PostgreSQL only after a round trip.
   */
  invalidate(clientId: string, taskId: string, deleted?: VersionRef): void {
    this.tasks.delete(taskKey(clientId, taskId));
    if (deleted) this.dropVersions(clientId, taskId, [deleted]);
  }

  private async task(clientId: string, taskId: string): Promise<TaskRecord> {
    const key = taskKey(clientId, taskId);
    const cached = this.tasks.get(key);
    if (cached && cached.expires > Date.now()) return cached.task;
    const task = await this.store.getTask(clientId, taskId);
    if (!task) {
      this.tasks.delete(key);
      throw new DomainError('task_not_found', `task "${taskId}" does not exist`, 'task');
    }
    this.tasks.set(key, { task, expires: Date.now() + this.options.activeTtlMs });
    return task;
  }

  /** The task's label prior as its version 0 sees it, read from the store (not a cached record); starts an estimate when it is out of date. */
  async prior(clientId: string, taskId: string): Promise<{ task: TaskRecord } & PriorStatus> {
    const task = await this.store.getTask(clientId, taskId);
    if (!task) throw new DomainError('task_not_found', `task "${taskId}" does not exist`, 'task');
    return { task, ...this.priors.status(task) };
  }

  /** The version that answers for a task: `number` if pinned, else the active one. */
  async target(clientId: string, taskId: string, number?: number): Promise<Target> {
    const task = await this.task(clientId, taskId);
    const n = number ?? task.activeVersion;
    if (n === null) {
      // Untrained: the declared labels answer, zero-shot.
      const zeroShot = zeroShotVersion(task);
      if (zeroShot) {
        if (this.priors.due(task)) this.priors.refresh(task.clientId, task.id);
        return { task, version: zeroShot };
      }
      throw new DomainError(
        'no_active_version',
        `task "${taskId}" has no active version yet, nor ${MIN_ZERO_SHOT_LABELS} declared labels to predict zero-shot; train it, or declare its labels (with descriptions)`,
        'task',
      );
    }
    const key = `${clientId}|${taskId}|${n}`;
    let version = this.versions.get(key);
    if (!version) {
      version = await this.store.getVersion(clientId, taskId, n);
      if (!version) throw new DomainError('version_not_found', `task "${taskId}" has no version ${n}`, 'version');
      this.versions.set(key, version);
    }
    return { task, version };
  }

  private artifactBytes(v: VersionRecord): () => Promise<Uint8Array> {
    return async () => {
      let bytes = this.artifacts.get(v.id);
      if (!bytes && v.number === 0) {
        // Zero-shot: the prototypes are the label texts' features under the task's spec.
        const texts = zeroShotTexts(v);
        const feats = await this.features.forTexts(v.clientId, [v.spec], texts);
        const m = feats.matrices[0]!;
        const { scale } = v.params as { scale: number };
        const prior = appliedPrior(v);
        const artifact = prototypeArtifact(m.x, texts.length, m.x.length / texts.length, scale, prior && v.labels.map((l) => prior.labels[l]!));
        bytes = (await packArtifact(artifact)).bytes;
        this.artifacts.set(v.id, bytes);
      }
      if (!bytes) {
        bytes = await this.store.getArtifactBytes(v.clientId, v.taskId, v.number);
        if (!bytes) throw new DomainError('version_not_found', `version ${v.number} of task "${v.taskId}" was deleted`, 'version');
        this.artifacts.set(v.id, bytes);
      }
      return bytes;
    };
  }

  /**
   * Features of the task's labelled examples under the target's spec (at most
   * `max`, evenly spaced in id order): from the cache or store for examples a
   * job has trained on, encoded for the rest.
   */
  async labelledFeatures(target: Target, max: number, options: EncodeOptions = {}): Promise<{ x: Float32Array; m: number; tokens: number; encoded: number }> {
    const all = await this.store.allExamples(target.task.clientId, target.task.id);
    const step = Math.max(1, all.length / max);
    const texts: string[] = [];
    for (let i = 0; i < all.length && texts.length < max; i += step) texts.push(all[Math.floor(i)]!.text);
    if (!texts.length) return { x: new Float32Array(0), m: 0, tokens: 0, encoded: 0 };
    const feats = await this.features.forTexts(target.task.clientId, [target.version.spec], texts, options);
    return { x: feats.matrices[0]!.x, m: texts.length, tokens: feats.tokens, encoded: feats.encoded };
  }

  /** Suggestions by typicality and coverage, in the predict pool (./typical-picks.ts). */
  selectTypical(input: TypicalInput, count: number): Promise<TypicalPick[]> {
    return this.pool.selectTypical(input, count);
  }

  /**
   * Scores `texts` with every target. Features are computed once per distinct
   * spec (and the encoder runs once per model), then each head scores them.
   */
  async score(targets: Target[], texts: string[], options: EncodeOptions = {}): Promise<{ scored: Scored[]; tokens: number; encoded: number }> {
    const specs = new Map(targets.map((t) => [specKey(t.version.spec), t.version.spec]));
    const keys = [...specs.keys()];
    // Every target is a task of the same client: the request's.
    const client = targets[0]?.task.clientId ?? '';
    const feats = await this.features.forTexts(client, [...specs.values()], texts, options);
    const scored = await Promise.all(
      targets.map(async (target) => {
        const matrix = feats.matrices[keys.indexOf(specKey(target.version.spec))]!;
        const probabilities = await this.pool.predict(
          target.version.id,
          this.artifactBytes(target.version),
          matrix.x,
          texts.length,
          target.version.artifactBytes,
        );
        return { target, probabilities, features: matrix.x };
      }),
    );
    return { scored, tokens: feats.tokens, encoded: feats.encoded };
  }
}
