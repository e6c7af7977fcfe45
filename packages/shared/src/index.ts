// The shared contract of irlkit's services: subjects, schemas, NATS access, configuration, logging.

export * from './config.ts';
export * from './history.ts';
export * from './log.ts';
export * from './nats.ts';
export * from './permissions.ts';
export * from './ports.ts';
export * from './schemas/index.ts';
export * from './secret.ts';
export * from './service.ts';
export * from './streams.ts';
export * from './subjects.ts';
export * from './supervise.ts';
