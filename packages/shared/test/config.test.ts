// Configuration: defaults, errors naming every bad variable, .env files, production refusing default secrets.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, commonEnv, commonSettings, DEV_SECRETS, defineConfig, env, isSecret, loadConfig, variableDefault } from '../src/config.ts';

const shape = { ...commonEnv, SRT_PORT: env.port(9000), OBS_WS_PASSWORD: env.secret(DEV_SECRETS.obsWebsocket), FLAG: env.bool(false) };

describe('loadConfig', () => {
  it('has defaults that work locally', () => {
    const c = loadConfig(shape, { source: {}, envFile: false });
    expect(c).toMatchObject({ SRT_PORT: 9000, IRL_STREAM_ID: 'main', NATS_URL: 'nats://127.0.0.1:4222', FLAG: false });
  });
  it('names every bad variable and why', () => {
    try {
      loadConfig(shape, { source: { SRT_PORT: '0', NATS_URL: 'http://x', FLAG: 'maybe' }, envFile: false });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/SRT_PORT: .*\(got "0"\)/);
      expect(message).toMatch(/NATS_URL: must look like nats:\/\/host:port/);
      expect(message).toMatch(/FLAG: must be true or false/);
    }
  });
  it('keeps JetStream copies between 1 (one server) and 5 (NATS_JS_REPLICAS, a cluster), as nats.jetstreamReplicas', () => {
    expect(commonSettings(loadConfig(commonEnv, { source: {}, envFile: false })).nats.jetstreamReplicas).toBe(1);
    expect(commonSettings(loadConfig(commonEnv, { source: { NATS_JS_REPLICAS: '3' }, envFile: false })).nats.jetstreamReplicas).toBe(3);
    for (const bad of ['0', '6', '2.5']) {
      expect(() => loadConfig(commonEnv, { source: { NATS_JS_REPLICAS: bad }, envFile: false })).toThrow(/NATS_JS_REPLICAS/);
    }
  });
  it('reads a .env file under the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'irlkit-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'SRT_PORT=9100\nFLAG=yes\n');
    expect(loadConfig(shape, { source: { SRT_PORT: '9200' }, envFile: file })).toMatchObject({ SRT_PORT: 9200, FLAG: true });
  });
  it('refuses default, empty and weak secrets in production and never prints them', () => {
    for (const [value, why] of [
      [undefined, /default or well-known/],
      ['', /empty/],
      ['changeme', /well-known/],
      ['short', /at least 10/],
    ] as const) {
      const source = { NODE_ENV: 'production', NATS_PASSWORD: 'a-long-nats-secret', OBS_WS_PASSWORD: value };
      expect(() => loadConfig(shape, { source, envFile: false })).toThrow(why);
    }
    const ok = loadConfig(shape, {
      source: { IRL_PRODUCTION: 'true', NATS_PASSWORD: 'a-long-nats-secret', OBS_WS_PASSWORD: 'another-long-secret' },
      envFile: false,
    });
    expect(ok.OBS_WS_PASSWORD).toBe('another-long-secret');
  });
  it('lets an optional secret (a stream key set later) stay empty in production, and checks it once set', () => {
    const withKey = { ...commonEnv, STREAM_KEY: env.optionalSecret() };
    const base = { NODE_ENV: 'production', NATS_PASSWORD: 'a-long-nats-secret' };
    expect(loadConfig(withKey, { source: base, envFile: false }).STREAM_KEY).toBe('');
    expect(() => loadConfig(withKey, { source: { ...base, STREAM_KEY: 'short' }, envFile: false })).toThrow(/STREAM_KEY: must be at least 10/);
    expect(loadConfig(withKey, { source: { ...base, STREAM_KEY: 'live_123456789' }, envFile: false }).STREAM_KEY).toBe('live_123456789');
  });
});

describe('defineConfig', () => {
  const definition = defineConfig(shape, (v) => ({ srt: { port: v.SRT_PORT }, obs: { password: v.OBS_WS_PASSWORD }, flag: v.FLAG }));
  it('turns the variables into nested settings, with the same errors as loadConfig', () => {
    expect(definition.load({ source: { SRT_PORT: '9100' }, envFile: false })).toEqual({
      srt: { port: 9100 },
      obs: { password: DEV_SECRETS.obsWebsocket },
      flag: false,
    });
    expect(() => definition.load({ source: { SRT_PORT: 'x' }, envFile: false })).toThrow(/SRT_PORT: /);
  });
  it('knows secrets by their metadata, also once refined and described, and defaults as the environment spells them', () => {
    const refined = env
      .secret('')
      .refine((v) => !v.includes('&'), 'no &')
      .describe('a passphrase');
    expect(isSecret(refined)).toBe(true);
    expect(isSecret(env.string('x').describe('secret:looks like one'))).toBe(false);
    expect(() =>
      loadConfig({ ...commonEnv, PASS: refined }, { source: { NODE_ENV: 'production', NATS_PASSWORD: 'a-long-nats-secret' }, envFile: false }),
    ).toThrow(/PASS: must be set in production/);
    expect(variableDefault(env.port(9000))).toBe('9000');
    expect(variableDefault(env.bool(false))).toBe('false');
    expect(variableDefault(env.optionalString())).toBeUndefined();
  });
});
