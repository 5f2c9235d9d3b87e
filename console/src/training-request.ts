/**
 * The training form's fields as a POST …/jobs body (src/training/request.ts
 * holds the schema the service validates it with). The head types and their
 * parameters are GET /v1/heads's. Pure.
 */
import type { HeadType, Task } from './api/responses.js';
import { changedParams, defaultEntries, type ParamEntry } from './head-params.js';

export interface TrainingForm {
  /** A head type of GET /v1/heads, or auto. */
  head: string;
  /** A head type other than auto: cross-validate its grid instead of the parameters below. */
  search: boolean;
  /** The chosen head type's parameters as set, by name (./head-params.ts). */
  params: Record<string, ParamEntry>;
  /** auto: the head types whose grids are searched. */
  candidates: string[];
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
  /** When the new version becomes active: if it beats the active one on the same examples, always, or never. */
  activate: 'if_better' | 'always' | 'never';
}

/** The head types that train a task of `kind`, in the service's order. */
export const headsFor = (heads: readonly HeadType[], kind: Task['kind']) => heads.filter((h) => h.task_kinds.includes(kind));

/** The form with head type `type` chosen, its parameters at their defaults. */
export function withHead(form: TrainingForm, heads: readonly HeadType[], type: string): TrainingForm {
  const head = heads.find((h) => h.type === type);
  return { ...form, head: type, params: head ? defaultEntries(head) : {} };
}

/** The head type that fine-tunes the encoder (GET /v1/heads lists it last). */
export const FINE_TUNE = 'fine_tune';

/** Whether the form fine-tunes: as its head, or among auto's candidates (then it is evaluated on a hold-out). */
export const fineTunes = (form: Pick<TrainingForm, 'head' | 'candidates'>) =>
  form.head === FINE_TUNE || (form.head === 'auto' && form.candidates.includes(FINE_TUNE));

/** The form as the service would train a request that says nothing: its default head type, and auto's default candidates. */
export function defaultForm(heads: readonly HeadType[], kind: Task['kind']): TrainingForm {
  const offered = headsFor(heads, kind);
  const head = offered.find((h) => h.default_for.includes(kind)) ?? offered[0];
  const form: TrainingForm = {
    head: 'auto',
    search: false,
    params: {},
    candidates: offered.filter((h) => h.auto.includes(kind)).map((h) => h.type),
    layerSweep: false,
    sweepLayers: '',
    topConcat: 3,
    learningCurve: false,
    evaluation: 'cv',
    folds: 5,
    holdoutPercent: 20,
    activate: 'if_better',
  };
  return head ? withHead(form, heads, head.type) : form;
}

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

/** The request body; `heads`: GET /v1/heads's answer, whose defaults tell which parameters the person changed. */
export function trainingRequest(form: TrainingForm, heads: readonly HeadType[]): Record<string, unknown> {
  const chosen = heads.find((h) => h.type === form.head);
  // Fine-tuning has no grid, no layers to sweep, and is evaluated on a hold-out (a fold would cost a whole run).
  const tuned = form.head === FINE_TUNE;
  const tunes = fineTunes(form);
  const head =
    form.head === 'auto'
      ? { type: 'auto', candidates: form.candidates }
      : form.search && !tuned
        ? { type: form.head, search: true }
        : { type: form.head, params: chosen ? changedParams(chosen, form.params) : {} };
  const layers = form.layerSweep ? parseLayers(form.sweepLayers) : undefined;
  return {
    head,
    layer_sweep: form.layerSweep && !tuned ? { ...(layers ? { layers } : {}), top_concat: form.topConcat } : false,
    learning_curve: form.learningCurve && !tuned,
    evaluation: form.evaluation === 'cv' && !tunes ? { method: 'cv', folds: form.folds } : { method: 'holdout', fraction: form.holdoutPercent / 100 },
    activate: form.activate === 'if_better' ? 'if_better' : form.activate === 'always',
  };
}
