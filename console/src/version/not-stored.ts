import { ApiError } from '../api/errors.js';

/** Versions trained before out-of-fold predictions and maps were kept answer 404 evaluation_not_stored. */
export const notStored = (err: unknown) => err instanceof ApiError && err.code === 'evaluation_not_stored';
