/** The predict worker's API (see ../workers/channel.ts). */
import type { Reply } from '../workers/protocol.js';
import type { TypicalInput, TypicalPick } from './typical-picks.js';

export interface PredictArgs {
  versionId: string;
  /** The gzip-compressed artifact, sent when the worker may not hold this version. */
  artifact?: Uint8Array;
  x: Float32Array;
  n: number;
}

/** `missing`: the worker does not hold the version and got no artifact; send it again with one. */
/** `ms`: the time the head took to score the rows (what the pool's admission learns a head's cost from). */
export type Predicted = { probabilities: Float32Array; classes: number; ms: number } | { missing: true };

export type PredictApi = {
  predict(args: PredictArgs): Reply<Predicted> | Predicted;
  /** The labels' prior on texts from a head's probabilities on them (./label-prior.ts): EM over n × k, off the event loop. */
  estimatePrior(args: { probabilities: Float32Array; n: number; k: number }): { prior: Float64Array; iterations: number };
  /** Drops the predictors of deleted versions now, rather than when newer ones push them out. */
  forget(args: { versionIds: string[] }): void;
  /** Suggestions by typicality and coverage (./typical-picks.ts): clustering a large pool is real CPU work. */
  selectTypical(args: { input: TypicalInput; count: number }): TypicalPick[];
};
