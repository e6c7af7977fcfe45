// Writes OBS's configuration into $XDG_CONFIG_HOME/obs-studio before OBS starts, merging with what is there.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COLLECTION, globalIni, type ObsProvision, PROFILE, profileIni, sceneCollection, serviceJson, streamEncoderJson } from './obs-files.ts';

function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // a corrupt file is replaced
  }
}

function write(path: string, content: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
}

export function obsPaths(configDir: string) {
  const root = join(configDir, 'obs-studio');
  const profile = join(root, 'basic/profiles', PROFILE);
  return {
    root,
    global: join(root, 'global.ini'),
    profile: join(profile, 'basic.ini'),
    encoder: join(profile, 'streamEncoder.json'),
    service: join(profile, 'service.json'),
    scenes: join(root, 'basic/scenes', `${COLLECTION}.json`),
  };
}

/** Idempotent: running it twice writes the same files; user changes outside the owned keys survive. */
export function provisionObs(configDir: string, p: ObsProvision): ReturnType<typeof obsPaths> {
  const paths = obsPaths(configDir);
  write(paths.global, globalIni(p, readText(paths.global)));
  write(paths.profile, profileIni(p, readText(paths.profile)));
  write(paths.encoder, `${JSON.stringify(streamEncoderJson(p, readJson(paths.encoder)), null, 2)}\n`);
  write(paths.service, `${JSON.stringify(serviceJson(p), null, 2)}\n`);
  write(paths.scenes, `${JSON.stringify(sceneCollection(p, readJson(paths.scenes)), null, 2)}\n`);
  return paths;
}
