/**
 * A route declared once: method, path, documentation, the zod schemas of its
 * path parameters, query and body, its responses, and its handler. The app
 * registers the express route from it (router.ts) and the OpenAPI document
 * describes it (openapi.ts), so the two cannot disagree about what exists.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { Scope } from '../store/types.js';
import type { Principal } from './auth.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * A path segment that names a resource. A segment its schema rejects names
 * nothing, so it answers the resource's own 404 (`notFound`), the same answer
 * as a well-formed id that does not exist.
 */
export interface PathParam<S extends z.ZodType = z.ZodType> {
  schema: S;
  notFound: ErrorCode;
  description: string;
}

export type PathParams = Record<string, PathParam>;

export interface ResponseDoc {
  description: string;
  /** The JSON body; omitted for an empty response (204) or one described in words only. */
  schema?: z.ZodType;
  /** A body that is not JSON (the Prometheus exposition). */
  mediaType?: string;
  headers?: Record<string, string>;
}

/** A body the handler reads from the request stream itself (uploads too large to buffer). */
export interface StreamedBody {
  mediaTypes: readonly string[];
  /** What the JSON form holds; the other media types carry the same records. */
  schema: z.ZodType;
  description: string;
  /** Most bytes the body may hold: one announced larger is refused before the handler runs (the handler's reader bounds the rest). */
  maxBytes?: number;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives: the request already authenticated, and validated against the declaration's schemas. */
export interface Input<P extends PathParams, Q, B> {
  params: { [K in keyof P]: z.output<P[K]['schema']> };
  query: Parsed<Q>;
  body: Parsed<B>;
  /** The client the request acts for (auth.ts). */
  client: string;
  principal: Principal;
  /** Charges the client for encoder tokens the request used (its tokens-per-minute limit). */
  chargeTokens(tokens: number): Promise<void>;
  req: Request;
  res: Response;
}

/**
 * Who may call a route: a key with this scope; `any` key (the API document);
 * or anyone (`public`: liveness, readiness, metrics). Without keys configured,
 * every request holds every client scope.
 */
export type RouteScope = Scope | 'any' | 'public';

export interface RouteDeclaration<P extends PathParams, Q extends z.ZodObject | undefined, B extends z.ZodType | undefined> {
  method: Method;
  /** Express-style: every `:name` is declared in `params`. */
  path: string;
  summary: string;
  /** Longer prose for the document, when the summary cannot say it all. */
  description?: string;
  tag: string;
  scope: RouteScope;
  params?: P;
  /** Routes without one ignore the query string. */
  query?: Q;
  /**
   * The JSON body. A route without one (and without `streamedBody`) refuses a
   * request that carries a body. A schema that accepts undefined makes the
   * body optional.
   */
  body?: B;
  streamedBody?: StreamedBody;
  responses: Record<number, ResponseDoc>;
  handler: (input: Input<P, Q, B>) => unknown;
}

/** A declaration with its schema types erased, as the router and the document see it. */
export type Route = RouteDeclaration<PathParams, z.ZodObject | undefined, z.ZodType | undefined>;

/**
 * Declares a route, inferring the handler's input types from the schemas.
 * The cast only forgets those types: the router parses every part of the
 * request with the declaration's own schemas before it calls the handler.
 */
export function route<
  P extends PathParams = Record<never, PathParam>,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(declaration: RouteDeclaration<P, Q, B>): Route {
  return declaration as unknown as Route;
}

/** The `:name`s of an express path, in order. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
}
