// Configuration from environment variables (and an optional .env file), validated once at start-up.
import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { DEFAULT_STREAM_ID } from './subjects.ts';

/** Development defaults of secrets; production mode refuses them. */
export const DEV_SECRETS = {
  nats: 'irlkit-dev-nats',
  obsWebsocket: 'irlkit-dev-obs',
  dashboard: 'irlkit-dev-dashboard',
  dashboardSession: 'irlkit-dev-session-secret-please-change',
  desktop: 'irlkit-dev-desktop',
  bridgeApi: 'irlkit-dev-api-token',
  relayKey: 'irlkit-dev-relay-key',
} as const;
const WEAK_SECRETS = new Set(['changeme', 'change-me', 'password', 'secret', 'admin', '123456']);

/** Marks the variables that hold secrets, with their development default: production refuses it. */
export const secretVariables = z.registry<{ devDefault: string; optional?: boolean }>();

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Environment helpers: every env value is a string, these coerce and validate it. */
export const env = {
  string: (fallback?: string) => (fallback === undefined ? z.string().min(1) : z.string().min(1).default(fallback)),
  optionalString: () =>
    z
      .string()
      .optional()
      .transform((v) => (v === '' ? undefined : v)),
  port: (fallback: number) => z.coerce.number().int('must be a whole number').min(1).max(65535).default(fallback),
  /** A port whose default is worked out at start-up (unset or empty: undefined). */
  optionalPort: () =>
    z
      .string()
      .optional()
      .transform((v) => (v === '' ? undefined : v))
      .pipe(z.coerce.number<string | undefined>().int('must be a whole number').min(1).max(65535).optional()),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int('must be a whole number').min(min).max(max).default(fallback),
  number: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().min(min).max(max).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => ['1', 'true', 'yes', 'on'].includes(v)),
  /** A secret; `production` refuses empty, default and well-known values. */
  secret: (devDefault: string) => z.string().default(devDefault).register(secretVariables, { devDefault }),
  /** A secret that may stay empty (a stream key set later); when set, `production` checks it like any secret. */
  optionalSecret: () => z.string().default('').register(secretVariables, { devDefault: '', optional: true }),
  enumOf: <T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) => z.enum(values).default(fallback),
};

/** Variables every service reads. */
export const commonEnv = {
  NODE_ENV: z.string().default('development'),
  /** Refuse default secrets even when NODE_ENV is not production. */
  IRL_PRODUCTION: env.bool(false),
  IRL_STREAM_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -')
    .default(DEFAULT_STREAM_ID),
  LOG_LEVEL: env.enumOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
  NATS_URL: z
    .string()
    .regex(/^(nats|tls|wss?):\/\/\S+$/, 'must look like nats://host:port')
    .default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().default('irlkit'),
  NATS_PASSWORD: env.secret(DEV_SECRETS.nats),
  /** Copies JetStream keeps of each bucket and stream the services create: 3 on a 3-node NATS cluster (deploy/swarm). */
  NATS_JS_REPLICAS: env.int(1, 1, 5),
};

export interface LoadOptions {
  /** The environment to read; process.env when omitted. */
  source?: Record<string, string | undefined>;
  /** A .env file read under the environment (the environment wins); IRL_ENV_FILE or ./.env by default. */
  envFile?: string | false;
}

function readEnvFile(path: string): Record<string, string> {
  try {
    return parseDotenv(readFileSync(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError([`could not read env file ${path}: ${(error as Error).message}`]);
  }
}

/**
 * Reads and validates a service's configuration. Throws a ConfigError naming every bad
 * variable; in production mode, also every secret left empty or at its default.
 */
export function loadConfig<Shape extends z.ZodRawShape>(shape: Shape, options: LoadOptions = {}): z.infer<z.ZodObject<Shape>> {
  const source = options.source ?? process.env;
  const envFile = options.envFile === undefined ? (source.IRL_ENV_FILE ?? '.env') : options.envFile;
  const merged: Record<string, string | undefined> = { ...(envFile ? readEnvFile(envFile) : {}), ...source };
  const values: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) values[key] = merged[key] === '' && !isSecret(shape[key]) ? undefined : merged[key];

  const result = z.object(shape).safeParse(values);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(config)');
        const got = values[name];
        const shown = got === undefined ? 'not set' : isSecret(shape[name]) ? 'hidden' : JSON.stringify(got);
        return `${name}: ${issue.message} (got ${shown})`;
      }),
    );
  }
  const config = result.data as Record<string, unknown>;
  const production = values.NODE_ENV === 'production' || ['1', 'true', 'yes', 'on'].includes(values.IRL_PRODUCTION ?? '');
  if (production) {
    const problems: string[] = [];
    for (const [key, schema] of Object.entries(shape)) {
      const devDefault = secretDefault(schema);
      if (devDefault === undefined) continue;
      const value = String(config[key] ?? '');
      if (value === '' && isOptionalSecret(schema)) continue;
      if (value === '') problems.push(`${key}: must be set in production (it is empty)`);
      else if (value === devDefault || WEAK_SECRETS.has(value.toLowerCase()))
        problems.push(`${key}: is a default or well-known value; set your own secret for production`);
      else if (value.length < 10) problems.push(`${key}: must be at least 10 characters in production`);
    }
    if (problems.length) throw new ConfigError(problems);
  }
  return result.data;
}

function secretDefault(schema: unknown): string | undefined {
  return schema ? secretVariables.get(schema as z.ZodType)?.devDefault : undefined;
}
function isOptionalSecret(schema: unknown): boolean {
  return schema ? secretVariables.get(schema as z.ZodType)?.optional === true : false;
}
export function isSecret(schema: unknown): boolean {
  return secretDefault(schema) !== undefined;
}

/** A variable's default as the environment would spell it (what the README shows), or undefined when it has none. */
export function variableDefault(schema: z.ZodType): string | undefined {
  let current: unknown = schema;
  for (let depth = 0; depth < 10 && current; depth++) {
    const def = (current as { _zod: { def: { type: string; defaultValue?: unknown; in?: unknown; innerType?: unknown } } })._zod.def;
    if (def.type === 'default' || def.type === 'prefault') {
      const value = def.defaultValue;
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
    current = def.type === 'pipe' ? def.in : def.innerType;
  }
  return undefined;
}

/** What every service's settings carry besides its own: the stream, production mode, logging and NATS. */
export interface CommonSettings {
  streamId: string;
  production: boolean;
  logLevel: string;
  nats: { url: string; user: string; password: string; jetstreamReplicas: number };
}

export function commonSettings(values: z.infer<z.ZodObject<typeof commonEnv>>): CommonSettings {
  return {
    streamId: values.IRL_STREAM_ID,
    production: values.NODE_ENV === 'production' || values.IRL_PRODUCTION,
    logLevel: values.LOG_LEVEL,
    nats: { url: values.NATS_URL, user: values.NATS_USER, password: values.NATS_PASSWORD, jetstreamReplicas: values.NATS_JS_REPLICAS },
  };
}

/**
 * A service's configuration: its variables (validation, defaults and secrets in one zod shape) and
 * the one function that turns them into nested, domain-named settings. Env names stay in config.ts.
 */
export interface ConfigDefinition<Shape extends z.ZodRawShape, Settings> {
  variables: Shape;
  load(options?: LoadOptions): Settings;
}

export function defineConfig<Shape extends z.ZodRawShape, Settings>(
  variables: Shape,
  settings: (values: z.infer<z.ZodObject<Shape>>) => Settings,
): ConfigDefinition<Shape, Settings> {
  return { variables, load: (options) => settings(loadConfig(variables, options)) };
}

/** Writes a ConfigError readably and exits; other errors are rethrown. */
export function exitOnConfigError(error: unknown, service: string): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}
