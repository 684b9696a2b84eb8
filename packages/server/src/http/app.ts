import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type https from 'node:https';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import fastifyStatic from '@fastify/static';
import type { MikroORM } from '@mikro-orm/postgresql';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import { allows, httpRuleFor, refusal } from '../auth/policy.js';
import type { MedgridConfig, TlsConfig } from '../config/config.js';
import { registerDicomweb } from '../dicomweb/dicomweb.routes.js';
import type { GraphqlContext } from '../graphql/context.js';
import { queryLimits } from '../graphql/limits.js';
import { buildGraphqlSchema } from '../graphql/schema.js';
import { IdentityRuntime } from '../identity/identity.runtime.js';
import { StorageAdminRuntime } from '../storage-admin/storage-admin.runtime.js';
import { StudiesRuntime } from '../studies/studies.runtime.js';
import { VERSION } from '../system/version.js';
import { VoService } from '../vo/vo.service.js';

export interface AppHandle {
  app: FastifyInstance;
  studies: StudiesRuntime;
  registry: Registry;
  identity: IdentityRuntime;
  auth: AuthService;
  /** GraphQL subscriptions (graphql-ws on /graphql): attach to any further listener serving this app. */
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** How often expiry and AUP deadlines are applied and the CRL's freshness checked. */
const LIFECYCLE_INTERVAL_MS = 60_000;

/** TLS options of an HTTPS listener: its certificate, and when a client CA is set, client certificates asked for. */
export function httpsOptions(tls: TlsConfig): https.ServerOptions {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.clientCaFile
      ? { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: tls.requireClientCert }
      : {}),
  };
}

/**
 * A client certificate the TLS layer cannot verify (foreign CA, expired) ends the connection right after the
 * handshake; connections without a certificate stay open for sign-in and public routes. Revocation (CRL) and
 * the account behind a verified certificate are checked per request by AuthService.
 */
export function guardClientCertificates(server: TlsServer): void {
  server.on('secureConnection', (sock: TLSSocket) => {
    if (!sock.authorized && sock.getPeerCertificate(false)?.raw) sock.destroy();
  });
}

const API_PREFIXES = ['/graphql', '/dicomweb', '/healthz', '/readyz', '/metrics', '/auth', '/ca'];

/** Builds the HTTP(S) server: GraphQL, health, metrics and the two web apps. Does not listen. */
export async function buildApp(opts: {
  config: MedgridConfig;
  orm: MikroORM;
  logger: Logger;
  /** The CA and identity caches; opened from `<dataDir>/ca` when not given. */
  identity?: IdentityRuntime;
  /** Keys, spool and secret of the studies domain; opened from the config when not given. */
  studies?: StudiesRuntime;
  /** Run expiry/AUP enforcement every minute (default true). */
  lifecycleTimer?: boolean;
}): Promise<AppHandle> {
  const { config, orm, logger } = opts;
  const identity = opts.identity ?? (await IdentityRuntime.open(config));
  const authService = new AuthService(orm, identity);
  const studies = opts.studies ?? StudiesRuntime.open(config);
  const storageAdmin = new StorageAdminRuntime(config.databaseUrl ?? process.env.DATABASE_URL);
  const tls = config.tls;
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: false,
    ...(tls ? { https: httpsOptions(tls) } : {}),
  }) as unknown as FastifyInstance;

  if (tls?.clientCaFile) guardClientCertificates(app.server as unknown as TlsServer);

  // Deny by default: every route must match a rule in HTTP_ROUTE_RULES, or registration fails.
  app.addHook('onRoute', (route) => {
    const rule = httpRuleFor(route.url);
    if (!rule) throw new Error(`HTTP route ${route.method} ${route.url} has no rule in HTTP_ROUTE_RULES`);
    route.config = { ...(route.config as object), authRule: rule.rule };
  });
  app.addHook('onRequest', async (req, reply) => {
    const rule = (req.routeOptions.config as { authRule?: string } | undefined)?.authRule;
    if (!rule || rule === 'public' || rule === 'graphql-field-rules') return;
    const auth = await authService.authenticate(req);
    if (!allows(auth, [rule])) {
      const err = refusal(auth);
      return reply.code(auth.principal ? 403 : 401).send({ error: err.message, code: err.code });
    }
  });

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

  // The CA chain and the current CRL (re-issued on every revocation), for TLS peers, SEs and curl.
  app.get('/ca/ca.pem', async (_req, reply) =>
    reply.type('application/x-pem-file').send(identity.ca.chainPem),
  );
  app.get('/ca/crl.pem', async (_req, reply) => {
    const crl = await identity.crl.snapshot(orm.em.fork());
    return reply.type('application/x-pem-file').header('cache-control', 'no-cache').send(crl.pem);
  });
  app.get('/ca/crl.der', async (_req, reply) => {
    const crl = await identity.crl.snapshot(orm.em.fork());
    return reply.type('application/pkix-crl').header('cache-control', 'no-cache').send(crl.der);
  });
  // The root's CRL, for clients that check every CA in the chain (openssl -crl_check_all, XRootD crl:3).
  app.get('/ca/root-crl.pem', async (_req, reply) =>
    reply
      .type('application/x-pem-file')
      .header('cache-control', 'no-cache')
      .send((await identity.rootCrl()).pem),
  );
  app.get('/ca/root-crl.der', async (_req, reply) =>
    reply
      .type('application/pkix-crl')
      .header('cache-control', 'no-cache')
      .send((await identity.rootCrl()).der),
  );

  const schema = await buildGraphqlSchema();
  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    introspection: config.env !== 'production',
    // Depth and complexity limits; page sizes are capped at 100 by the connections themselves.
    validationRules: [queryLimits()],
    // Stack traces stay in the logs; clients get the message and a typed code.
    includeStacktraceInErrorResponses: config.env === 'development',
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
    context: async (request: FastifyRequest, reply: FastifyReply): Promise<GraphqlContext> => ({
      em: orm.em.fork(),
      request,
      reply,
      auth: await authService.authenticate(request),
      identity,
      authService,
      studies,
      storageAdmin,
    }),
  });

  // Subscriptions (ingest and storage progress) over graphql-ws on the same path; same authentication.
  const wss = new WebSocketServer({ noServer: true });
  const wsServer = useServer<Record<string, unknown>, Record<string, never>>(
    {
      schema,
      context: async (ctx): Promise<GraphqlContext> => {
        const raw = ctx.extra.request;
        const request = {
          headers: raw.headers,
          raw,
          ip: raw.socket.remoteAddress,
        } as unknown as FastifyRequest;
        return {
          em: orm.em.fork(),
          request,
          reply: undefined as unknown as FastifyReply,
          auth: await authService.authenticate(request),
          identity,
          authService,
          studies,
          storageAdmin,
        };
      },
    },
    wss,
  );
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== '/graphql') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('onClose', async () => {
    await wsServer.dispose();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(() => r(undefined)));
  });

  await registerDicomweb(app, { orm, auth: authService, studies });
  studies.connectStorage(config, logger);
  app.addHook('onClose', async () => {
    await studies.storage?.close();
    await storageAdmin.close();
  });

  if (opts.lifecycleTimer ?? true) {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      const em = orm.em.fork();
      Promise.all([
        new VoService(em, identity.voOptions()).enforce(SYSTEM_ACTOR),
        identity.crl.snapshot(em),
        authService.purge(),
      ])
        .then(([r]) => {
          if (r.expired || r.suspended) {
            identity.authCache.clear();
            logger.info(r, 'membership lifecycle applied');
          }
        })
        .catch((err: Error) => logger.warn({ err: err.message }, 'membership lifecycle check failed'))
        .finally(() => {
          running = false;
        });
    }, LIFECYCLE_INTERVAL_MS);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  await registerWebApps(app, config);
  return { app, registry, identity, auth: authService, studies, onUpgrade };
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
        // The build writes .br/.gz beside each asset (web-common's precompressAssets).
        preCompressed: true,
        cacheControl: false,
        setHeaders: (reply, file) => {
          // Hashed file names never change content: no revalidation round trips. Everything else (index.html)
          // is checked each time so a new build is picked up at once.
          reply.header(
            'cache-control',
            file.includes(`${path.sep}assets${path.sep}`)
              ? 'public, max-age=31536000, immutable'
              : 'no-cache',
          );
        },
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
    return reply.type('text/html').header('cache-control', 'no-cache').send(readFileSync(index));
  });
}
