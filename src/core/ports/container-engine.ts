// The container engine, declared once: `pic up` (apply), the API's data plane and container manager,
// and the health monitor all take this port (each may ask for the Pick of it it uses). The Docker
// driver implements it; it lists and touches only the objects labelled for one cell.
import type { ContainerSpec } from '../../schema/runtime.ts';
import type { Observed } from '../runtime/plan.ts';

/** One container as the engine reports it. */
export interface ContainerState {
  id: string;
  name: string;
  service: string;
  image: string;
  state: string;
  health: string | undefined;
  startedAt: string | undefined;
  restartCount: number;
  ip: string | undefined;
}

export interface ContainerMountState {
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerEnginePort {
  reachable(): Promise<boolean>;
  /** The group owning the engine's socket (cell-api joins it to reach the engine). */
  socketGid(): number;
  /** Image id for a local image, or undefined when it has not been built (nothing is pulled). */
  imageId(ref: string): Promise<string | undefined>;
  observe(cellId: string): Promise<Observed>;
  /**
   * Removes the one-off helper containers (a volume's preparation, files written into it) of the
   * cell in `cellDir` that exited without being removed (its cell-api stopped first); returns how
   * many. Never throws.
   */
  removeEndedHelpers?(cellDir: string): Promise<number>;
  createNetwork(cellId: string, name: string, subnet: string, gateway: string): Promise<void>;
  removeNetwork(id: string): Promise<void>;
  createContainer(cellId: string, network: string, spec: ContainerSpec, hash: string): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  restart(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  state(id: string): Promise<ContainerState>;
  states(cellId: string): Promise<ContainerState[]>;
  mounts(id: string): Promise<ContainerMountState[]>;
  logs(id: string, tail: number): Promise<string>;
  /** The container's HEALTHCHECK test as Docker stores it (["CMD", ...], ["CMD-SHELL", s]); none: undefined. */
  healthcheckTest(container: string): Promise<string[] | undefined>;
  /** Runs argv inside a container (no shell); stdin, when given, is written then closed. */
  exec(
    container: string,
    argv: string[],
    opts?: { stdin?: string; user?: string; timeoutMs?: number; maxBytes?: number },
  ): Promise<ExecResult>;
}
