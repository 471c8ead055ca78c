// What installing or uninstalling one store service means, as an ordered list of steps, decided before
// anything is built, pulled or created (issue 12, "Lifecycle"). Pure: the catalog and the installed
// set come in, the plan goes out, and every refusal is an AppError whose code maps to the HTTP status
// (not_found 404: an id nobody knows; conflict 409: a service still required by an installed one;
// manifest_refused 422: a `requires` cycle or a manifest the policy refuses).
//
// Installing X installs what X requires first, transitively, in `requires` order (depth first), so
// each step's dependencies are already there when it runs. What is installed already is no step: a
// request for an installed service with everything it needs in place is an empty plan (idempotent).
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { AppError, type FieldError } from '../errors.ts';
import { checkManifest, type HeldPort } from './manifest-policy.ts';

export type PlanRequest = { action: 'install' | 'uninstall'; id: string };

/** `requested`, or the service whose `requires` brought this one in. */
export type InstallReason = 'requested' | { requiredBy: string };

export type PlanStep =
  | { action: 'install'; id: string; manifest: ServiceManifest; reason: InstallReason }
  | { action: 'uninstall'; id: string; manifest: ServiceManifest };

export interface PlanInput {
  /** Every manifest the catalog offers (built-in and remote), already schema-checked. */
  catalog: readonly ServiceManifest[];
  /** The manifests recorded when the installed services were installed. */
  installed: readonly ServiceManifest[];
  request: PlanRequest;
  /**
   * Host ports the core holds (coreHeldPorts). When given, each manifest to install is also checked
   * by the policy against the installed services and the steps before it.
   */
  heldPorts?: readonly HeldPort[];
}

export function planServiceChange(input: PlanInput): PlanStep[] {
  return input.request.action === 'install' ? planInstall(input) : planUninstall(input);
}

function planInstall({ catalog, installed, request, heldPorts }: PlanInput): PlanStep[] {
  const byId = new Map(catalog.map((m) => [m.id, m]));
  const installedById = new Map(installed.map((m) => [m.id, m]));
  const steps: PlanStep[] = [];
  const done = new Set<string>();

  // Depth first along `requires`; `path` is the chain being followed, so a cycle can be named whole.
  const visit = (id: string, path: readonly string[], reason: InstallReason) => {
    if (done.has(id)) return;
    const at = path.indexOf(id);
    if (at >= 0) {
      const cycle = [...path.slice(at), id].join(' → ');
      throw new AppError('manifest_refused', `services require each other in a cycle: ${cycle}`);
    }
    // An installed service is kept as recorded; its requirements are still followed, in case one was
    // removed from under it.
    const m = installedById.get(id) ?? byId.get(id);
    if (!m) {
      const parent = path.at(-1);
      throw new AppError(
        'not_found',
        parent === undefined
          ? `service ${id} is not in the catalog`
          : `service ${parent} requires ${id}, which is not in the catalog`,
      );
    }
    for (const r of m.requires ?? []) visit(r, [...path, id], { requiredBy: id });
    done.add(id);
    if (!installedById.has(id)) steps.push({ action: 'install', id, manifest: m, reason });
  };
  visit(request.id, [], 'requested');

  if (heldPorts) checkSteps(steps, installed, [...byId.keys()], heldPorts);
  return steps;
}

/** The policy on each manifest to install, with what is installed and what the plan adds before it. */
function checkSteps(
  steps: readonly PlanStep[],
  installed: readonly ServiceManifest[],
  catalogIds: readonly string[],
  heldPorts: readonly HeldPort[],
): void {
  const present = [...installed];
  const fields: FieldError[] = [];
  for (const s of steps) {
    const r = checkManifest(s.manifest, { catalogIds, installed: present, heldPorts });
    if (!r.ok) for (const p of r.problems) fields.push({ field: `${s.id}: ${p.path}`, message: p.message });
    present.push(s.manifest);
  }
  if (fields.length > 0) {
    const ids = [...new Set(fields.map((f) => f.field.slice(0, f.field.indexOf(':'))))];
    throw new AppError('manifest_refused', `the manifest of ${ids.join(', ')} is refused`, { fields });
  }
}

function planUninstall({ catalog, installed, request }: PlanInput): PlanStep[] {
  const m = installed.find((i) => i.id === request.id);
  if (!m) {
    // Not installed: nothing to do, unless nobody ever heard of it.
    if (catalog.some((c) => c.id === request.id)) return [];
    throw new AppError('not_found', `service ${request.id} is not in the catalog`);
  }
  const dependents = installed.filter((o) => o.id !== m.id && (o.requires ?? []).includes(m.id));
  if (dependents.length > 0) {
    const names = dependents.map((d) => d.id).join(', ');
    throw new AppError(
      'conflict',
      `service ${m.id} is required by ${names} (installed): uninstall ${dependents.length > 1 ? 'them' : 'it'} first`,
    );
  }
  return [{ action: 'uninstall', id: m.id, manifest: m }];
}
