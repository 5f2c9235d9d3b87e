/** The `input` of embeddings and predict calls: one text, or a non-empty list of them. */
import { z } from 'zod';
import { stored } from './stored-text.js';

export interface TextLimits {
  maxInputs: number;
  maxInputChars: number;
}

/** `storable`: texts the store keeps, so none it could not keep as sent (./stored-text.ts). */
export function textInput(limits: TextLimits, { storable = false } = {}) {
  const plain = z
    .string({
      error: (i) => (typeof i.input === 'number' || Array.isArray(i.input) ? 'token-id input is not supported; send text' : undefined),
    })
    .min(1, 'must not be empty')
    .max(limits.maxInputChars, `is longer than ${limits.maxInputChars} characters`);
  const text = storable ? stored(plain) : plain;
  return z.union([text, z.array(text).min(1, 'must hold at least one text').max(limits.maxInputs, `holds more than ${limits.maxInputs} texts`)]);
}

/** The texts of an `input`, as a list. */
export const texts = (input: string | string[]): string[] => (typeof input === 'string' ? [input] : input);
