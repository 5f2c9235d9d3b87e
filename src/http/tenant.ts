/**
 * The tenant a request acts for. Until API keys exist every request belongs to
 * the default tenant; routes already pass the tenant to every store call, so
 * keys only have to change this function.
 */
import type { Request } from 'express';
import { DEFAULT_TENANT } from '../store/types.js';

export function tenantOf(_req: Request): string {
  return DEFAULT_TENANT;
}
