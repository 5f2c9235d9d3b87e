/**
 * The training form's fields as a POST …/jobs body (src/training/request.ts
 * holds the schema the service validates it with). Pure.
 */

export type HeadChoice = 'svm' | 'random_forest' | 'logistic_regression' | 'mlp' | 'auto';

export interface TrainingForm {
  head: HeadChoice;
  /** A head type other than auto: cross-validate its grid instead of its default parameters. */
  search: boolean;
  layerSweep: boolean;
  /** Layers the sweep tries, as typed: "" for every hidden state, or "1-6", "2, 4, 6". */
  sweepLayers: string;
  /** The sweep also tries the concatenation of its best N layers (0: no). */
  topConcat: number;
  /** Also measure the chosen head on 10, 25 and 50 % of the training rows. */
  learningCurve: boolean;
  evaluation: 'cv' | 'holdout';
  folds: number;
  /** Held-out share, in percent as typed. */
  holdoutPercent: number;
  activate: boolean;
}

export const DEFAULT_FORM: TrainingForm = {
  head: 'svm',
  search: false,
  layerSweep: false,
  sweepLayers: '',
  topConcat: 3,
  learningCurve: false,
  evaluation: 'cv',
  folds: 5,
  holdoutPercent: 20,
  activate: true,
};

/** "1-3, 6" → [1, 2, 3, 6]; "" → undefined (every hidden state). Throws on anything else. */
export function parseLayers(text: string): number[] | undefined {
  if (text.trim() === '') return undefined;
  const layers: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const range = /^(-?\d+)\s*-\s*(-?\d+)$/.exec(part);
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (to < from) throw new Error(`layers: the range "${part}" runs backwards`);
      for (let l = from; l <= to; l++) layers.push(l);
    } else if (/^-?\d+$/.test(part)) {
      layers.push(Number(part));
    } else {
      throw new Error(`layers: "${part}" is not a layer number or a range such as 1-6`);
    }
  }
  return layers;
}

export function trainingRequest(form: TrainingForm): Record<string, unknown> {
  const head = form.head !== 'auto' && form.search ? { type: form.head, search: true } : form.head;
  const layers = form.layerSweep ? parseLayers(form.sweepLayers) : undefined;
  return {
    head,
    layer_sweep: form.layerSweep ? { ...(layers ? { layers } : {}), top_concat: form.topConcat } : false,
    learning_curve: form.learningCurve,
    evaluation: form.evaluation === 'cv' ? { method: 'cv', folds: form.folds } : { method: 'holdout', fraction: form.holdoutPercent / 100 },
    activate: form.activate,
  };
}
