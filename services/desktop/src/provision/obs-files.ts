// OBS Studio 29's configuration files, built from irlkit's configuration. Pure: text in, text out.
// Configuration wins for the keys it owns; everything else a user changed in OBS is kept.

export interface ObsProvision {
  websocket: { port: number; password: string };
  video: { width: number; height: number; fps: number };
  encoder: { videoKbps: number; audioKbps: number; preset: string };
  stream: { server: string; key: string };
  feedUrl: string;
  feedInput: string;
  /** Audio sync offset of the feed input (ms; positive delays its audio): OBS's media source shows the feed's audio ahead of its picture. */
  feedAudioDelayMs: number;
  offlineMedia: string;
  lowBanner: string;
  scenes: { live: string; low: string; offline: string; starting: string; privacy: string };
}

export const PROFILE = 'irlkit';
export const COLLECTION = 'irlkit';
/** OBS 29.0.2 as OBS encodes versions (major << 24 | minor << 16 | patch). */
export const OBS_VERSION_CODE = (29 << 24) | (0 << 16) | 2;

type Ini = Map<string, Map<string, string>>;

export function parseIni(text: string): Ini {
  const ini: Ini = new Map();
  let section = ini.get('') ?? new Map<string, string>();
  ini.set('', section);
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      const name = header[1] as string;
      section = ini.get(name) ?? new Map();
      ini.set(name, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) section.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return ini;
}

export function formatIni(ini: Ini): string {
  const out: string[] = [];
  for (const [name, entries] of ini) {
    if (name === '' && entries.size === 0) continue;
    if (name !== '') out.push(`[${name}]`);
    for (const [k, v] of entries) out.push(`${k}=${v}`);
    out.push('');
  }
  return out.join('\n');
}

/** Sets the owned keys on top of an existing ini file's text (or an empty one). */
export function mergeIni(existing: string, owned: Record<string, Record<string, string>>): string {
  const ini = parseIni(existing);
  for (const [section, entries] of Object.entries(owned)) {
    const s = ini.get(section) ?? new Map<string, string>();
    for (const [k, v] of Object.entries(entries)) s.set(k, v);
    ini.set(section, s);
  }
  return formatIni(ini);
}

/** Sets keys only where the existing ini file's text has none: a first default the user's later choice overrides. */
export function defaultIni(existing: string, defaults: Record<string, Record<string, string>>): string {
  const ini = parseIni(existing);
  const missing: Record<string, Record<string, string>> = {};
  for (const [section, entries] of Object.entries(defaults)) {
    for (const [k, v] of Object.entries(entries)) {
      if (ini.get(section)?.has(k)) continue;
      missing[section] = { ...missing[section], [k]: v };
    }
  }
  return mergeIni(existing, missing);
}

export function globalIni(p: ObsProvision, existing = ''): string {
  // OBS's own preview off until the operator turns it on (right-click → Enable Preview in the desktop):
  // drawing it costs OBS's software renderer about a fifth of a core, for a window nobody looks at
  // while the stream runs; the dashboard shows its own preview. Measured: docs/BENCHMARKS.md, "What viewers see".
  const withDefaults = defaultIni(existing, { BasicWindow: { PreviewEnabled: 'false' } });
  return mergeIni(withDefaults, {
    General: {
      FirstRun: 'true',
      LastVersion: String(OBS_VERSION_CODE),
      Pre19Defaults: 'false',
      Pre21Defaults: 'false',
      Pre23Defaults: 'false',
      'Pre24.1Defaults': 'false',
      EnableAutoUpdates: 'false',
      ConfirmOnExit: 'false',
    },
    Basic: { Profile: PROFILE, ProfileDir: PROFILE, SceneCollection: COLLECTION, SceneCollectionFile: COLLECTION },
    BasicWindow: {
      SysTrayEnabled: 'false',
      ShowTransitions: 'true',
      WarnBeforeStartingStream: 'false',
      WarnBeforeStoppingStream: 'false',
      RecordWhenStreaming: 'false',
    },
    OBSWebSocket: {
      ServerEnabled: 'true',
      ServerPort: String(p.websocket.port),
      AuthRequired: 'true',
      ServerPassword: p.websocket.password,
      AlertsEnabled: 'false',
      FirstLoad: 'false',
    },
    // Fixed 20 ms audio buffering: OBS's default grows its buffering whenever a source's audio comes
    // late (an SRT feed after every outage) and never shrinks it, so the whole stream falls further
    // behind with each outage (measured up to 960 ms). Fixed, late audio is dropped instead.
    Audio: { LowLatencyAudioBuffering: 'true' },
  });
}

export function profileIni(p: ObsProvision, existing = ''): string {
  const { width, height, fps } = p.video;
  return mergeIni(existing, {
    General: { Name: PROFILE },
    Output: { Mode: 'Advanced', Reconnect: 'true', RetryDelay: '2', MaxRetries: '1000' },
    AdvOut: { Encoder: 'obs_x264', TrackIndex: '1', ApplyServiceSettings: 'true', Track1Bitrate: String(p.encoder.audioKbps), AudioEncoder: 'ffmpeg_aac' },
    Video: {
      BaseCX: String(width),
      BaseCY: String(height),
      OutputCX: String(width),
      OutputCY: String(height),
      FPSType: '1',
      FPSInt: String(fps),
      FPSCommon: String(fps),
      ScaleType: 'bicubic',
      ColorFormat: 'NV12',
    },
    Audio: { SampleRate: '48000', ChannelSetup: 'Stereo' },
  });
}

export function streamEncoderJson(p: ObsProvision, existing: Record<string, unknown> = {}): Record<string, unknown> {
  // keyint_sec=2: viewers joining get a keyframe within 2 s (OBS's default leaves them waiting up to 8 s).
  return { ...existing, rate_control: 'CBR', bitrate: p.encoder.videoKbps, keyint_sec: 2, preset: p.encoder.preset, profile: 'main', tune: 'zerolatency' };
}

export function serviceJson(p: ObsProvision): Record<string, unknown> {
  return { type: 'rtmp_custom', settings: { server: p.stream.server, key: p.stream.key, use_auth: false, bwtest: false } };
}

interface SourceJson {
  name: string;
  id: string;
  versioned_id?: string;
  settings: Record<string, unknown>;
  [key: string]: unknown;
}

interface SceneItem {
  name: string;
  visible: boolean;
  [key: string]: unknown;
}

function fullCanvasItem(name: string, id: number, p: ObsProvision): SceneItem {
  return {
    name,
    id,
    visible: true,
    locked: false,
    pos: { x: 0, y: 0 },
    rot: 0,
    scale: { x: 1, y: 1 },
    align: 5,
    bounds_type: 2, // scale to inner bounds: any feed resolution fills the canvas
    bounds_align: 0,
    bounds: { x: p.video.width, y: p.video.height },
  };
}

function positionedItem(name: string, id: number, x: number, y: number): SceneItem {
  return {
    name,
    id,
    visible: true,
    locked: false,
    pos: { x, y },
    rot: 0,
    scale: { x: 1, y: 1 },
    align: 5,
    bounds_type: 0,
    bounds_align: 0,
    bounds: { x: 0, y: 0 },
  };
}

function scene(name: string, items: SceneItem[]): SourceJson {
  return { name, id: 'scene', versioned_id: 'scene', settings: { custom_size: false, id_counter: items.length, items } };
}

function text(name: string, value: string, size: number, color = 4294967295): SourceJson {
  return {
    name,
    id: 'text_ft2_source',
    versioned_id: 'text_ft2_source_v2',
    settings: { text: value, font: { face: 'DejaVu Sans', size, style: 'Bold', flags: 1 }, color1: color, color2: color, outline: true, drop_shadow: true },
  };
}

function color(name: string, argb: number, p: ObsProvision): SourceJson {
  return { name, id: 'color_source', versioned_id: 'color_source_v3', settings: { color: argb, width: p.video.width, height: p.video.height } };
}

/** The sources irlkit owns in the scene collection, by name. */
export function ownedSources(p: ObsProvision): SourceJson[] {
  const { width, height } = p.video;
  const s = p.scenes;
  const offlineIsVideo = /\.(mp4|mkv|mov|webm|ts)$/i.test(p.offlineMedia);
  return [
    {
      name: p.feedInput,
      id: 'ffmpeg_source',
      versioned_id: 'ffmpeg_source',
      // OBS keeps a source's sync offset in nanoseconds.
      sync: p.feedAudioDelayMs * 1_000_000,
      settings: {
        is_local_file: false,
        input: p.feedUrl,
        input_format: 'mpegts',
        // Fast reconnect: retry every second, keep decoding when the scene is not shown (the
        // switcher checks the picture moves before it shows it), no hardware decoder.
        reconnect_delay_sec: 1,
        restart_on_activate: false,
        close_when_inactive: false,
        clear_on_media_end: true,
        hw_decode: false,
        buffering_mb: 1,
        seekable: false,
        // No PTS-wrap guessing in the player's demuxer: ffmpeg takes timestamps more than 60 s below the first one it
        // read for wrapped (33-bit PTS), and a restart of the input keeps that demuxer, so a new sender's timestamps
        // (from zero again) counted as wrapped until they passed that mark, where OBS saw a jump of 26.5 hours and
        // dropped the feed's buffered audio (a lost second of sound; viewers.e2e › "a new sender after one whose
        // stream…"). A sender whose own timestamps wrap (after 26.5 hours on air) costs one such jump instead.
        ffmpeg_options: 'correct_ts_overflow=0',
      },
    },
    offlineIsVideo
      ? {
          name: 'Offline media',
          id: 'ffmpeg_source',
          versioned_id: 'ffmpeg_source',
          settings: { is_local_file: true, local_file: p.offlineMedia, looping: true, restart_on_activate: true, close_when_inactive: true },
        }
      : { name: 'Offline media', id: 'image_source', versioned_id: 'image_source', settings: { file: p.offlineMedia, unload: false } },
    text('Low bitrate banner', p.lowBanner, 48, 0xff4d48e5),
    color('Starting background', 0xff2a1d14, p),
    text('Starting text', 'Starting soon', 56),
    color('Privacy background', 0xff000000, p),
    text('Privacy text', 'Be right back', 56),
    scene(s.live, [fullCanvasItem(p.feedInput, 1, p)]),
    scene(s.low, [fullCanvasItem(p.feedInput, 1, p), positionedItem('Low bitrate banner', 2, 24, height - 80)]),
    // The feed input, hidden and 2 px wide under the slate: OBS 29 restarts a media input only while a
    // view shows it, so the switcher shows this item for the instant of a restart (see the bridge's restartMediaInput).
    scene(s.offline, [{ ...fullCanvasItem(p.feedInput, 1, p), visible: false, bounds: { x: 2, y: 2 } }, fullCanvasItem('Offline media', 2, p)]),
    scene(s.starting, [
      fullCanvasItem('Starting background', 1, p),
      positionedItem('Starting text', 2, Math.round(width / 2 - 190), Math.round(height / 2 - 40)),
    ]),
    scene(s.privacy, [fullCanvasItem('Privacy background', 1, p), positionedItem('Privacy text', 2, Math.round(width / 2 - 190), Math.round(height / 2 - 40))]),
  ];
}

/**
 * The scene collection: irlkit's sources and scenes are (re)written with their owned settings;
 * sources, scenes and scene items the user added are kept; the user's scene order is kept.
 */
export function sceneCollection(p: ObsProvision, existing?: Record<string, unknown>): Record<string, unknown> {
  const owned = ownedSources(p);
  const ownedNames = new Set(owned.map((s) => s.name));
  const previous = Array.isArray(existing?.sources) ? (existing.sources as SourceJson[]) : [];
  const sources: SourceJson[] = [];
  for (const source of owned) {
    const old = previous.find((s) => s.name === source.name);
    if (!old) {
      sources.push(source);
      continue;
    }
    if (source.id === 'scene') {
      // Keep the user's extra items in irlkit's scenes; irlkit's own items are set again.
      const ownItems = (source.settings.items as SceneItem[]).map((i) => i.name);
      const extra = ((old.settings?.items as SceneItem[] | undefined) ?? []).filter((i) => !ownItems.includes(i.name));
      const items = [...(source.settings.items as SceneItem[]), ...extra].map((item, index) => ({ ...item, id: index + 1 }));
      sources.push({ ...old, ...source, settings: { ...old.settings, ...source.settings, items, id_counter: items.length } });
    } else {
      sources.push({ ...old, ...source, settings: { ...old.settings, ...source.settings } });
    }
  }
  for (const old of previous) if (!ownedNames.has(old.name)) sources.push(old);

  const sceneNames = sources.filter((s) => s.id === 'scene').map((s) => s.name);
  const previousOrder = Array.isArray(existing?.scene_order) ? (existing.scene_order as Array<{ name: string }>).map((o) => o.name) : [];
  const order = [...previousOrder.filter((n) => sceneNames.includes(n)), ...sceneNames.filter((n) => !previousOrder.includes(n))];
  const current =
    typeof existing?.current_program_scene === 'string' && sceneNames.includes(existing.current_program_scene)
      ? existing.current_program_scene
      : p.scenes.offline;
  return {
    ...existing,
    name: COLLECTION,
    current_scene: current,
    current_program_scene: current,
    current_transition: 'Cut',
    transition_duration: 0,
    scene_order: order.map((name) => ({ name })),
    sources,
    groups: existing?.groups ?? [],
    transitions: existing?.transitions ?? [],
    quick_transitions: existing?.quick_transitions ?? [],
  };
}
