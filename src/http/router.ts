/**
 * Registers declared routes on an express router: each route parses its
 * request with its own schemas before the handler runs, and a path that
 * exists answers 405 (with Allow) for the methods it was not declared with.
 */
import { type RequestHandler, Router } from 'express';
import { DomainError } from '../errors.js';
import { readInput } from './input.js';
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

/** `json` parses JSON bodies; it runs only on routes that declare one, so streamed uploads reach their handler unread. */
export function routerOf(routes: readonly Route[], json: RequestHandler): Router {
  const router = Router();
  const byPath = new Map<string, Route[]>();
  for (const r of routes) {
    checkDeclaration(r);
    const same = byPath.get(r.path) ?? [];
    if (same.some((s) => s.method === r.method)) throw new Error(`${r.method.toUpperCase()} ${r.path} is declared twice`);
    byPath.set(r.path, [...same, r]);
    const handle: RequestHandler = async (req, res) => {
      await r.handler({ ...readInput(r, req), req, res });
    };
    router[r.method](r.path, ...(r.body ? [json] : []), handle);
  }
  // After every declared method, so that only the undeclared ones reach it.
  for (const [path, declared] of byPath) router.all(path, methodNotAllowed(allowedMethods(declared)));
  return router;
}
