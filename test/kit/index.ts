// The shared test kit: real servers on free ports, test feeds, waits.

export * from './browser.ts';
export * from './bus.ts';
export * from './ffmpeg.ts';
export * from './flash.ts';
export * from './irc.ts';
export * from './nats-server.ts';
export * from './obs.ts';
export * from './obs-proxy.ts';
export * from './pixels.ts';
export * from './ports.ts';
export * from './restream.ts';
export * from './rtmp.ts';
export * from './runner.ts';
export * from './srtla-sender.ts';
export * from './stack.ts';
export * from './streams.ts';
export * from './tcp-link.ts';
export * from './udp-link.ts';
export * from './wait.ts';
