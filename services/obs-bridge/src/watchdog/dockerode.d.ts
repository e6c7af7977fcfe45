// The part of dockerode's API the watchdog uses (dockerode ships no types; @types/dockerode is not a dependency).
declare module 'dockerode' {
  import type { Readable } from 'node:stream';

  interface ContainerInspectInfo {
    Id: string;
    Name: string;
    State: { Status: string; Running: boolean; Pid: number; ExitCode: number; Health?: { Status: string } };
    Config: { Labels: Record<string, string> | null };
  }
  interface ContainerInfo {
    Id: string;
    Names: string[];
    State: string;
    Labels: Record<string, string>;
  }
  class Container {
    id: string;
    inspect(): Promise<ContainerInspectInfo>;
    start(): Promise<unknown>;
    restart(options?: { t?: number }): Promise<unknown>;
  }
  class Docker {
    constructor(options?: { socketPath?: string });
    getContainer(id: string): Container;
    listContainers(options?: { all?: boolean; filters?: Record<string, string[]> }): Promise<ContainerInfo[]>;
    getEvents(options?: { filters?: Record<string, string[]>; since?: number }): Promise<Readable>;
  }
  export = Docker;
}
