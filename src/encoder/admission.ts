/**
 * Whether the encoder takes another interactive request, or sheds it at once
 * with a time to retry. A bound on waiting texts alone keeps memory bounded
 * but not latency: a full queue is many seconds of work, and every request
 * behind it waits that long. So a request is refused when
 * the texts ahead of it would take longer than `maxWaitMs` to run, predicted
 * from the recent cost of a text: under load the encoder runs large batches,
 * where a text costs a fraction of what it costs alone, and the prediction
 * follows that.
 *
 * The cost per text is an exponentially weighted mean over runs, weighted by
 * each run's texts (a run of 64 says more than a run of 1); interactive texts
 * go before bulk ones in the batch queue, so only interactive texts count as
 * "ahead".
 */

export interface AdmissionLimits {
  /** Most interactive texts waiting at once. */
  maxQueuedTexts: number;
  /** Longest predicted wait for a request's texts; 0 disables the prediction. */
  maxWaitMs: number;
}

/** Weight of a new run's texts against what the mean already holds, per text (≈ the last few hundred texts dominate). */
const TEXT_WEIGHT = 1 / 256;

export type Admission = { admitted: true } | { admitted: false; reason: string; retryAfterMs: number };

export class QueueAdmission {
  private msPerText = 0;
  private observed = 0;

  constructor(private readonly limits: AdmissionLimits) {}

  /** A run of `texts` sequences that took `ms`. */
  observe(texts: number, ms: number): void {
    if (texts <= 0 || !(ms >= 0)) return;
    const perText = ms / texts;
    const w = this.observed === 0 ? 1 : Math.min(1, texts * TEXT_WEIGHT);
    this.msPerText += w * (perText - this.msPerText);
    this.observed += texts;
  }

  /** The predicted milliseconds until `queued` interactive texts have run. */
  predictedWaitMs(queued: number): number {
    return queued * this.msPerText;
  }

  /** Whether `adding` more texts may join the `queued` interactive ones. */
  admit(queued: number, adding: number): Admission {
    const { maxQueuedTexts, maxWaitMs } = this.limits;
    if (queued + adding > maxQueuedTexts) {
      return { admitted: false, reason: `${queued} texts are waiting (the limit is ${maxQueuedTexts})`, retryAfterMs: this.predictedWaitMs(queued) };
    }
    const wait = this.predictedWaitMs(queued + adding);
    // A request alone in the queue is always taken, whatever it costs: refusing it would not make it cheaper.
    if (maxWaitMs > 0 && queued > 0 && wait > maxWaitMs) {
      return { admitted: false, reason: `its texts would wait about ${Math.round(wait)} ms (the limit is ${maxWaitMs} ms)`, retryAfterMs: wait - maxWaitMs };
    }
    return { admitted: true };
  }
}
