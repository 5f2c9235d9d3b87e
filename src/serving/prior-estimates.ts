/**
 * Label priors for zero-shot prediction, estimated on each task's pool of
 * unlabelled texts (./label-prior.ts) and stored with the task, so every
 * replica applies the same one (a stored estimate is announced to all).
 *
 * Estimated lazily: a replica that serves version 0, or reports its prior,
 * and finds the stored estimate made on another pool or for other labels or
 * descriptions, starts a new one in the background and meanwhile serves the
 * stored one where it was made for the same labels. The work is off the event
 * loop: the encoder worker computes the pool's features (stored, as a
 * training job's are), a predict worker scores them and runs the EM. On one
 * replica, one estimate of a task runs at a time; a request for another while
 * it runs makes it run once more after.
 */
import type { FeatureService } from '../features/feature-service.js';
import type { LabelPrior, Store, TaskRecord, VersionRecord } from '../store/types.js';
import type { PredictPool } from './predict-pool.js';
import { baseZeroShotVersion } from './zero-shot.js';
import { currentPrior } from '../heads/prototype/label-text.js';

/** Fewest pool texts a prior is estimated from: with fewer, a label's share is too coarse to correct a head with. */
export const MIN_PRIOR_TEXTS = 20;
/** Most pool texts one estimate reads (a fixed sample of a larger pool): the prior's error shrinks as 1/√n, well below a point past this. */
export const MAX_PRIOR_TEXTS = 5000;
/** Estimates in a row for one task before giving up until the next request (a pool that changes while each runs). */
const MAX_ROUNDS = 5;

export interface PriorDeps {
  store: Store;
  features: FeatureService;
  pool: PredictPool;
  /** n × labels probabilities of `version` on features `x`. */
  score: (version: VersionRecord, x: Float32Array, n: number) => Promise<Float32Array>;
  onError: (err: unknown, task: { clientId: string; taskId: string }) => void;
}

export type PriorState = 'current' | 'estimating' | 'unavailable';

export interface PriorStatus {
  state: PriorState;
  /** The stored prior version 0 applies now (possibly estimated on an earlier pool while a new estimate runs). */
  prior: LabelPrior | undefined;
  /** Why there is none: `unavailable`. */
  reason: string | null;
}

export class PriorEstimates {
  private readonly running = new Map<string, { again: boolean }>();

  constructor(private readonly deps: PriorDeps) {}

  /** Whether the task's stored prior is out of date: estimated on another pool or another version 0, or kept for a pool now too small. */
  due(task: TaskRecord): boolean {
    const base = baseZeroShotVersion(task);
    if (!base) return false;
    const stored = task.labelPrior;
    if (task.poolCount < MIN_PRIOR_TEXTS) return stored !== null;
    return !stored || stored.version !== base.id || stored.poolRevision !== task.poolRevision;
  }

  /** The task's prior as version 0 sees it; starts an estimate when the stored one is out of date. */
  status(task: TaskRecord): PriorStatus {
    const base = baseZeroShotVersion(task);
    if (!base) {
      const reason =
        task.kind === 'multi_label'
          ? 'a label prior is for single-label tasks: a multi-label task has no zero-shot version'
          : 'the task declares fewer than two labels: it has no zero-shot version to estimate a prior for';
      return { state: 'unavailable', prior: undefined, reason };
    }
    const due = this.due(task);
    if (due) this.refresh(task.clientId, task.id);
    if (task.poolCount < MIN_PRIOR_TEXTS && !due)
      return { state: 'unavailable', prior: undefined, reason: `the pool holds ${task.poolCount} texts; a prior is estimated from ${MIN_PRIOR_TEXTS} or more` };
    return { state: due ? 'estimating' : 'current', prior: currentPrior(task), reason: null };
  }

  /** Starts estimating the task's prior unless this replica already is; returns at once. */
  refresh(clientId: string, taskId: string): void {
    const key = `${clientId}|${taskId}`;
    const running = this.running.get(key);
    if (running) {
      running.again = true;
      return;
    }
    const entry = { again: false };
    this.running.set(key, entry);
    void (async () => {
      try {
        for (let round = 0; round < MAX_ROUNDS; round++) {
          entry.again = false;
          const saved = await this.estimate(clientId, taskId);
          if (saved && !entry.again) break;
        }
      } catch (err) {
        this.deps.onError(err, { clientId, taskId });
      } finally {
        this.running.delete(key);
      }
    })();
  }

  /** One estimate from the store's current state; false when the pool changed before it could be stored. */
  private async estimate(clientId: string, taskId: string): Promise<boolean> {
    const { store, features, pool, score } = this.deps;
    const task = await store.getTask(clientId, taskId);
    const base = task && baseZeroShotVersion(task);
    if (!task || !base || !this.due(task)) return true;
    const sample = task.poolCount < MIN_PRIOR_TEXTS ? [] : await store.poolSample(clientId, taskId, MAX_PRIOR_TEXTS);
    if (sample.length < MIN_PRIOR_TEXTS) return store.saveLabelPrior(clientId, taskId, task.poolRevision, null);
    const n = sample.length;
    const feats = await features.forTraining(
      clientId,
      [base.spec],
      sample.map((t) => t.text),
      sample.map((t) => t.textHash),
    );
    const probabilities = await score(base, feats.matrices[0]!.x, n);
    const k = base.labels.length;
    const { prior, iterations } = await pool.estimatePrior(probabilities, n, k);
    const estimate: LabelPrior = {
      version: base.id,
      poolRevision: task.poolRevision,
      labels: base.labels,
      prior: Array.from(prior),
      poolTexts: n,
      iterations,
      estimatedAt: 0,
    };
    return store.saveLabelPrior(clientId, taskId, task.poolRevision, estimate);
  }

  /** Whether this replica is estimating the task's prior now (tests wait on it). */
  busy(clientId: string, taskId: string): boolean {
    return this.running.has(`${clientId}|${taskId}`);
  }
}
