// The state of the core services: the health monitor reports it inside the cell; `pic serve` without
// Docker reports every service as not running.
import type { ServiceHealth } from '../../schema/containers.ts';

export interface HealthPort {
  services(): Promise<ServiceHealth[]>;
}
