/**
 * A head type that exists only in the tests: a definition as a folder under
 * src/heads/ would export it, registered beside the real ones as a line of
 * src/heads/registry.ts would. The tests that build the app with it show what
 * a new head type reaches without touching any other file: GET /v1/heads,
 * /openapi.json's training request, the artifact route's description, the
 * console's training form. It is never trained.
 */
import { z } from 'zod';
import type { HeadDefinition } from '../../src/heads/head.js';
import { type AnyHead, HEADS } from '../../src/heads/registry.js';

const never = () => {
  throw new Error('the throwaway head type is never trained or loaded');
};

const throwawayHead: HeadDefinition<{ depth: number; style: 'plain' | 'fancy'; tags: string[] }> = {
  type: 'throwaway',
  description: 'A head type that exists only in the tests.',
  format: 'throwaway-v1',
  artifactDescription: 'depth (as trained), style.',
  params: z
    .object({
      depth: z.number().int().min(1).max(9).default(3).describe('How deep it would go.'),
      style: z.enum(['plain', 'fancy']).default('plain'),
      tags: z.array(z.string().min(1)).max(2).default([]).describe('At most two.'),
    })
    .strict(),
  searchDescription: 'depth ∈ {1, 2, 3}',
  auto: true,
  multiLabel: false,
  check() {},
  load: never,
  trainer: async () => never(),
};

/** The registry's head types and the throwaway one, last (as registry.ts's `listed` casts each head). */
export const WITH_THROWAWAY: readonly AnyHead[] = [...HEADS, throwawayHead as unknown as AnyHead];
