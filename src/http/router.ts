/**
 * Registers declared routes on an express router: each route parses its
 * request with its own schemas before the handler runs, and a path that
 * exists answers 405 (with Allow) for the methods it was not declared with.
 */
import { type RequestHandler, Router } from 'express';
import { DomainError } from '../errors.js';
import { type Authenticator, type Principal, requireScope } from './auth.js';
import { readInput } from './input.js';
import type { RateLimiter } from './limits.js';
import { pathParamNames, type Route } from './route.js';

/** Fails at startup when a declaration's params do not match its path: a typo there would otherwise be a 500 or an unchecked segment. */
function checkDeclaration(r: Route): void {
  const inPath = pathParamNames(r.path).sort();
  const declared = Object.keys(r.params ?? {}).sort();
  if (inPath.join() !== declared.join()) {
    throw new Error(`${r.method.toUpperCase()} ${r.path}: path parameters [${inPath}] but params declares [${declared}]`);
  }
  if (r.body && r.streamedBody) throw new Error(`${r.method.toUpperCase()} ${r.path}: a body is either JSON or streamed, not both`);
}

/** The methods a path answers, as express reports them (GET brings HEAD). */
function allowedMethods(routes: readonly Route[]): string[] {
  const methods = new Set(routes.map((r) => r.method.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

function methodNotAllowed(allowed: string[]): RequestHandler {
  const allow = allowed.join(', ');
  return (req, res, next) => {
    res.set('Allow', allow);
    // OPTIONS asks what is allowed: answered as express answers it for declared paths.
    if (req.method === 'OPTIONS') {
      res.type('text/plain').send(allow);
      return;
    }
    next(new DomainError('method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allowed.join(' or ')}`));
  };
}

/** How requests are authenticated and rate-limited (limits only with keys on). */
export interface Access {
  auth: Authenticator;
  limiter: RateLimiter | null;
}

const PUBLIC: Principal = { client: '', scopes: new Set(), keyId: null };

/**
 * Authenticates a request for a route and checks its scope and its client's
 * rate, before anything reads its body: an unauthenticated request costs no
 * parsing.
 */
function authorize(r: Route, access: Access): RequestHandler {
  return async (_req, res, next) => {
    if (r.scope === 'public') {
      res.locals.principal = PUBLIC;
      return next();
    }
    if (r.scope === 'admin' && !access.auth.keysOn) {
      throw new DomainError('keys_disabled', 'API keys are off (no TRANSFERD_ADMIN_KEY is configured): there are no clients to manage');
    }
    const principal = await access.auth.authenticate(_req);
    if (r.scope !== 'any') requireScope(principal, r.scope);
    if (access.limiter && r.scope !== 'admin' && !principal.scopes.has('admin')) {
      await access.limiter.admit(principal.client, r.scope === 'embed' || r.scope === 'predict');
    }
    res.locals.principal = principal;
    next();
  };
}

/** `json` parses JSON bodies; it runs only on routes that declare one, so streamed uploads reach their handler unread. */
export function routerOf(routes: readonly Route[], json: RequestHandler, access: Access): Router {
  const router = Router();
  const byPath = new Map<string, Route[]>();
  for (const r of routes) {
    checkDeclaration(r);
    const same = byPath.get(r.path) ?? [];
    if (same.some((s) => s.method === r.method)) throw new Error(`${r.method.toUpperCase()} ${r.path} is declared twice`);
    byPath.set(r.path, [...same, r]);
    const handle: RequestHandler = async (req, res) => {
      const principal = res.locals.principal as Principal;
      const chargeTokens = async (tokens: number) => {
        if (access.limiter && principal.keyId !== null) await access.limiter.charge(principal.client, tokens);
      };
      await r.handler({ ...readInput(r, req, principal.client), principal, chargeTokens, req, res });
    };
    router[r.method](r.path, authorize(r, access), ...(r.body ? [json] : []), handle);
  }
  // After every declared method, so that only the undeclared ones reach it.
  for (const [path, declared] of byPath) router.all(path, methodNotAllowed(allowedMethods(declared)));
  return router;
}
