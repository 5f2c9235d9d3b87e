/**
 * Clients and their API keys, managed with the admin key (TRANSFERD_ADMIN_KEY):
 * create, list, read (with what it stores), change limits, delete; issue keys
 * (the key is shown once), list them, revoke them.
 */
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { LIMIT_FIELDS, LIMIT_NAMES, type KeyRecord, SCOPES, type Store, type ClientLimits, type ClientRecord, type ClientUsage } from '../../store/types.js';
import { keyString, newKeySecret } from '../auth.js';
import { type Route, route } from '../route.js';
import { iso, listEnvelope, listJson, pageQuery } from '../schemas/common.js';
import { clientParam, keyParam } from '../schemas/params.js';

const clientNotFound = (id: string) => new DomainError('client_not_found', `client "${id}" does not exist`, 'client');

const limit = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();
const limitsIn = z
  .object(Object.fromEntries(LIMIT_FIELDS.map((f) => [LIMIT_NAMES[f], limit.optional()])) as Record<string, z.ZodOptional<typeof limit>>)
  .strict()
  .describe("The client's own limits; null (or absent) takes the service's default, 0 means none.");
const limitsOut = z.object(Object.fromEntries(LIMIT_FIELDS.map((f) => [LIMIT_NAMES[f], limit])) as Record<string, typeof limit>);

const name = z.string().trim().min(1, 'must not be empty').max(200);
const createClientBody = z.object({ name, limits: limitsIn.optional() }).strict();
const updateClientBody = z
  .object({ name: name.optional(), limits: limitsIn.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send name or limits');

const clientOut = z.object({
  id: z.string(),
  object: z.literal('client'),
  name: z.string(),
  limits: limitsOut,
  created_at: z.string(),
  usage: z
    .object({
      tasks: z.number(),
      examples: z.number(),
      pool_texts: z.number().describe('Unlabelled texts in its pools: max_examples counts them with the examples.'),
      stored_bytes: z.number(),
      running_jobs: z.number(),
      active_jobs: z.number(),
    })
    .optional()
    .describe('What the client stores and runs now, as its quotas count it (single client reads only).'),
});

const scope = z.enum(SCOPES);
const createKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    scopes: z
      .array(scope)
      .min(1)
      .max(SCOPES.length)
      .default(['embed', 'predict', 'train', 'read'])
      .describe('What the key may do; default every client scope. `admin` makes it an administrator key (manages clients and keys).'),
  })
  .strict();

const keyOut = z.object({
  id: z.string(),
  object: z.literal('api_key'),
  client: z.string(),
  name: z.string().nullable(),
  scopes: z.array(scope),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  key: z.string().optional().describe('The key itself: shown only in the answer that issues it, never again.'),
});

function limitsOf(body: Record<string, number | null | undefined> | undefined, base?: ClientLimits): ClientLimits {
  const out = {} as ClientLimits;
  for (const f of LIMIT_FIELDS) {
    const given = body?.[LIMIT_NAMES[f]];
    out[f] = given === undefined ? (base?.[f] ?? null) : given;
  }
  return out;
}

function clientJson(t: ClientRecord, usage?: ClientUsage): z.infer<typeof clientOut> {
  return {
    id: t.id,
    object: 'client',
    name: t.name,
    limits: Object.fromEntries(LIMIT_FIELDS.map((f) => [LIMIT_NAMES[f], t.limits[f]])),
    created_at: iso(t.createdAt)!,
    ...(usage
      ? {
          usage: {
            tasks: usage.tasks,
            examples: usage.examples,
            pool_texts: usage.poolTexts,
            stored_bytes: usage.storedBytes,
            running_jobs: usage.runningJobs,
            active_jobs: usage.activeJobs,
          },
        }
      : {}),
  };
}

function keyJson(k: KeyRecord, key?: string): z.infer<typeof keyOut> {
  return {
    id: k.id,
    object: 'api_key',
    client: k.clientId,
    name: k.name,
    scopes: k.scopes,
    created_at: iso(k.createdAt)!,
    revoked_at: iso(k.revokedAt),
    ...(key ? { key } : {}),
  };
}

export function clientsRoutes(store: Store): Route[] {
  const clientOf = async (id: string) => {
    const t = await store.getClient(id);
    if (!t) throw clientNotFound(id);
    return t;
  };
  return [
    route({
      method: 'post',
      path: '/v1/admin/clients',
      tag: 'admin',
      scope: 'admin',
      summary: 'Create a client (its tasks, examples, jobs and versions are its own).',
      body: createClientBody,
      responses: { 201: { description: 'Created.', schema: clientOut, headers: { Location: 'The new client.' } } },
      handler: async ({ body, res }) => {
        const client = await store.createClient(body.name, limitsOf(body.limits));
        res.status(201).location(`/v1/admin/clients/${client.id}`).json(clientJson(client));
      },
    }),
    route({
      method: 'get',
      path: '/v1/admin/clients',
      tag: 'admin',
      scope: 'admin',
      summary: 'List clients, oldest first.',
      query: pageQuery,
      responses: { 200: { description: 'A page of clients.', schema: listEnvelope(clientOut) } },
      handler: async ({ query, res }) => {
        const page = await store.listClients(query.limit, query.after);
        res.json(
          listJson(
            page.items.map((t) => clientJson(t)),
            page.next,
          ),
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/admin/clients/:client',
      tag: 'admin',
      scope: 'admin',
      summary: 'A client, with its usage.',
      params: { client: clientParam },
      responses: { 200: { description: 'The client.', schema: clientOut } },
      handler: async ({ params, res }) => {
        const client = await clientOf(params.client);
        res.json(clientJson(client, await store.usage(client.id)));
      },
    }),
    route({
      method: 'patch',
      path: '/v1/admin/clients/:client',
      tag: 'admin',
      scope: 'admin',
      summary: "Rename a client or change its limits (fields not sent keep their values; null returns a limit to the service's default).",
      params: { client: clientParam },
      body: updateClientBody,
      responses: { 200: { description: 'Updated.', schema: clientOut } },
      handler: async ({ params, body, res }) => {
        const client = await clientOf(params.client);
        const updated = await store.updateClient(client.id, {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.limits ? { limits: limitsOf(body.limits, client.limits) } : {}),
        });
        if (!updated) throw clientNotFound(client.id);
        res.json(clientJson(updated));
      },
    }),
    route({
      method: 'delete',
      path: '/v1/admin/clients/:client',
      tag: 'admin',
      scope: 'admin',
      summary: 'Delete a client with everything it stores; its keys stop working on every replica.',
      params: { client: clientParam },
      responses: { 204: { description: 'Deleted.' } },
      handler: async ({ params, res }) => {
        if (!(await store.deleteClient(params.client))) throw clientNotFound(params.client);
        res.status(204).end();
      },
    }),
    route({
      method: 'post',
      path: '/v1/admin/clients/:client/keys',
      tag: 'admin',
      scope: 'admin',
      summary: 'Issue an API key for a client; the answer holds the key, which is never shown again (only a hash of it is stored).',
      params: { client: clientParam },
      body: createKeyBody.prefault({}),
      responses: { 201: { description: 'Issued.', schema: keyOut } },
      handler: async ({ params, body, res }) => {
        const client = await clientOf(params.client);
        const { secret, secretHash } = newKeySecret();
        const key = await store.createKey({ clientId: client.id, name: body.name ?? null, scopes: body.scopes, secretHash });
        res.status(201).json(keyJson(key, keyString(key.id, secret)));
      },
    }),
    route({
      method: 'get',
      path: '/v1/admin/clients/:client/keys',
      tag: 'admin',
      scope: 'admin',
      summary: "A client's keys, revoked ones included (never the keys themselves).",
      params: { client: clientParam },
      responses: { 200: { description: 'Keys, oldest first.', schema: listEnvelope(keyOut) } },
      handler: async ({ params, res }) => {
        const client = await clientOf(params.client);
        res.json(
          listJson(
            (await store.listKeys(client.id)).map((k) => keyJson(k)),
            null,
          ),
        );
      },
    }),
    route({
      method: 'delete',
      path: '/v1/admin/clients/:client/keys/:key',
      tag: 'admin',
      scope: 'admin',
      summary: 'Revoke a key: every replica refuses it within a second.',
      params: { client: clientParam, key: keyParam },
      responses: { 200: { description: 'The revoked key.', schema: keyOut } },
      handler: async ({ params, res }) => {
        const key = await store.revokeKey(params.client, params.key);
        if (!key) throw new DomainError('key_not_found', `client "${params.client}" has no key "${params.key}"`, 'key');
        res.json(keyJson(key));
      },
    }),
  ];
}
