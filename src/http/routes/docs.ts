/** GET /openapi.json: the document of every declared route, this one included. */
import { type Route, route } from '../route.js';

export function docsRoutes(document: () => unknown): Route[] {
  return [
    route({
      method: 'get',
      path: '/openapi.json',
      tag: 'operations',
      scope: 'any',
      summary: 'This document.',
      responses: { 200: { description: 'OpenAPI 3.1 document.' } },
      handler: ({ res }) => {
        res.json(document());
      },
    }),
  ];
}
