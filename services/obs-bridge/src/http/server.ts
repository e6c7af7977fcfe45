// The bridge's internal HTTP API: health, Prometheus metrics, and every command as REST with a
// bearer token. Validation, types and OpenAPI come from the shared zod schemas.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { type Bus, COMMAND_VERBS, type CommandVerb, commandSchemas, type SettingsBucket, sameSecret } from '@irlkit/shared';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import type { ObsClient } from '../obs/client.ts';
import type { ObsMirror } from '../obs/mirror.ts';
import type { SwitcherRuntime } from '../switcher/runtime.ts';

export interface HttpDeps {
  bus: Bus;
  obs: ObsClient;
  mirror: ObsMirror;
  switcher: SwitcherRuntime;
  settings: SettingsBucket;
  apiToken: string;
}

export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: { info: { title: 'irlkit obs-bridge', version: '0.1.0' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('irlkit_obs_reachable', 'OBS websocket connected (1/0)', () => (deps.obs.isReachable() ? 1 : 0));
  gauge('irlkit_obs_streaming', 'OBS streaming (1/0)', () => (deps.obs.streaming ? 1 : 0));
  gauge('irlkit_obs_output_kbps', 'OBS output bitrate', () => deps.mirror.lastState?.outputKbps ?? 0);
  gauge('irlkit_obs_dropped_frames', 'frames OBS dropped on output', () => deps.mirror.lastState?.droppedFrames ?? 0);
  gauge('irlkit_switcher_state', 'switcher state (0 live, 1 low, 2 offline)', () => ['live', 'low', 'offline'].indexOf(deps.switcher.state().state));
  gauge('irlkit_nats_rejected_messages', 'invalid NATS messages dropped', () => deps.bus.rejections.total);

  const health = z.object({
    ok: z.boolean(),
    /** obs-websocket connected and answering (a hung OBS is closed, so it reads false). */
    obs: z.boolean(),
    /** How long ago OBS last answered anything (pinged every 2 s); null if it never has. */
    obsLastAnswerAgeMs: z.number().int().nonnegative().nullable(),
    nats: z.boolean(),
    /** JetStream KV answers: settings and the wanted state are saved (false: kept in memory until it is back). */
    settingsPersisted: z.boolean(),
    obsError: z.string().nullable(),
  });
  app.get('/healthz', { schema: { response: { 200: health, 503: health } } }, async (_req, reply) => {
    const nats = !deps.bus.nc.isClosed();
    const obs = deps.obs.isReachable();
    const body = {
      ok: nats && obs,
      obs,
      obsLastAnswerAgeMs: deps.obs.lastAnswerAgeMs(),
      nats,
      settingsPersisted: deps.settings.available,
      obsError: obs ? null : deps.obs.lastError,
    };
    return reply.code(body.ok ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  const replySchema = z.object({ ok: z.boolean(), result: z.unknown().optional(), error: z.string().optional() });
  for (const verb of COMMAND_VERBS) {
    app.post(
      `/api/commands/${verb}`,
      {
        schema: {
          description: `Sends the ${verb} command over NATS and returns its reply.`,
          security: [{ bearer: [] }],
          body: commandSchemas[verb].request.optional(),
          response: { 200: replySchema, 400: replySchema, 401: replySchema },
        },
        onRequest: async (req, reply) => {
          const header = req.headers.authorization ?? '';
          const token = header.startsWith('Bearer ') ? header.slice(7) : '';
          if (!token || !sameSecret(token, deps.apiToken)) {
            return reply.code(401).send({ ok: false, error: 'missing or wrong bearer token' });
          }
        },
      },
      async (req, reply) => {
        const result = await deps.bus.request(verb as CommandVerb, (req.body ?? {}) as never);
        return reply.code(result.ok ? 200 : 400).send(result);
      },
    );
  }
  app.setErrorHandler((caught, _req, reply) => {
    const error = caught as { statusCode?: number; validation?: unknown; message: string };
    const status = error.statusCode ?? 500;
    return reply.code(status).send({ ok: false, error: error.validation ? `invalid request: ${error.message}` : error.message });
  });
  return app;
}
