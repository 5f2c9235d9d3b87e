/** Glue between HTTP requests and the encoders: model lookup and spec resolution, with errors naming the request's fields. */
import type { Response } from 'express';
import type { Encoder } from '../encoder/encoder.js';
import { type FeatureSpec, type FeatureSpecInput, resolveSpec } from '../encoder/feature-spec.js';
import type { ModelRegistry } from '../encoder/registry.js';
import { DomainError, isDomainError } from '../errors.js';

export function encoderFor(models: ModelRegistry, name: string | undefined, param = 'model'): Encoder {
  const encoder = models.get(name ?? models.defaultModel);
  if (!encoder) {
    const known = models
      .list()
      .map((m) => m.name)
      .join(', ');
    throw new DomainError('model_not_found', `model "${name}" does not exist; loaded models: ${known}`, param);
  }
  return encoder;
}

/** Resolves request fields into a spec for a loaded model (400 naming the field when it cannot). */
export function specFor(
  models: ModelRegistry,
  fields: Omit<FeatureSpecInput, 'model'> & { model?: string | undefined },
  paramPrefix = '',
): { encoder: Encoder; spec: FeatureSpec } {
  const encoder = encoderFor(models, fields.model, `${paramPrefix}model`);
  try {
    return { encoder, spec: resolveSpec({ ...fields, model: encoder.manifest.name }, encoder.manifest.layers) };
  } catch (err) {
    if (isDomainError(err, 'invalid_feature_spec')) throw err.at(paramPrefix + (err.param ?? ''));
    throw err;
  }
}

/** An AbortSignal that fires when the client goes away before the response is sent. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
