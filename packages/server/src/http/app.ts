import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import fastifyStatic from '@fastify/static';
import type { MikroORM } from '@mikro-orm/postgresql';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { MedgridConfig } from '../config/config.js';
import type { GraphqlContext } from '../graphql/context.js';
import { buildGraphqlSchema } from '../graphql/schema.js';
import { VERSION } from '../system/version.js';

export interface AppHandle {
  app: FastifyInstance;
  registry: Registry;
}

const API_PREFIXES = ['/graphql', '/dicomweb', '/healthz', '/readyz', '/metrics', '/auth', '/ca'];

/** Builds the HTTP(S) server: GraphQL, health, metrics and the two web apps. Does not listen. */
export async function buildApp(opts: {
  config: MedgridConfig;
  orm: MikroORM;
  logger: Logger;
}): Promise<AppHandle> {
  const { config, orm, logger } = opts;
  const tls = config.tls;
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: false,
    ...(tls
      ? {
          https: {
            cert: readFileSync(tls.certFile),
            key: readFileSync(tls.keyFile),
            ...(tls.clientCaFile
              ? {
                  ca: readFileSync(tls.clientCaFile),
                  requestCert: true,
                  rejectUnauthorized: tls.requireClientCert,
                }
              : {}),
          },
        }
      : {}),
  }) as unknown as FastifyInstance;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'medgrid_server_' });
  const httpDuration = new Histogram({
    name: 'medgrid_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const graphqlErrors = new Counter({
    name: 'medgrid_graphql_errors_total',
    help: 'GraphQL responses carrying errors',
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/healthz', async () => ({ status: 'ok', version: VERSION }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await orm.em.fork().getConnection().execute('select 1');
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  const apollo = new ApolloServer<GraphqlContext>({
    schema: await buildGraphqlSchema(),
    introspection: config.env !== 'production',
    plugins: [
      fastifyApolloDrainPlugin(app),
      ApolloServerPluginLandingPageDisabled(),
      {
        async requestDidStart() {
          return {
            async didEncounterErrors() {
              graphqlErrors.inc();
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    // A fresh EntityManager fork per request keeps identity maps from leaking between users.
    context: async (request) => ({ em: orm.em.fork(), request }),
  });

  await registerWebApps(app, config);
  return { app, registry };
}

async function registerWebApps(app: FastifyInstance, config: MedgridConfig): Promise<void> {
  const apps = [
    { prefix: '/admin/', dir: config.adminAppDir },
    { prefix: '/', dir: config.doctorAppDir },
  ];
  for (const a of apps) {
    if (existsSync(path.join(a.dir, 'index.html'))) {
      await app.register(fastifyStatic, {
        root: a.dir,
        prefix: a.prefix,
        decorateReply: a.prefix === '/',
        wildcard: true,
        index: ['index.html'],
        cacheControl: true,
        maxAge: 0,
      });
    }
  }
  // History-mode routing: unknown page paths get the app's index.html; API paths stay 404.
  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0] ?? '/';
    const isApi = API_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`));
    if (req.method !== 'GET' || isApi || path.extname(url) !== '') {
      return reply.code(404).send({ error: 'not found' });
    }
    const target = url === '/admin' || url.startsWith('/admin/') ? apps[0]! : apps[1]!;
    const index = path.join(target.dir, 'index.html');
    if (!existsSync(index)) {
      return reply.code(503).type('text/plain').send('The web apps are not built yet: run `pnpm build`.\n');
    }
    return reply.type('text/html').send(readFileSync(index));
  });
}
