// pic restart / logs / shell: one service of the cell, named as in the spec (caddy, dns, ntp, wireguard, api).
import { parseArgs } from 'node:util';
import { START_ORDER } from '../../schema/runtime.ts';
import { requireDocker, runtimeContext } from '../runtime-context.ts';
import { UsageError } from '../usage.ts';

function containerName(
  desired: ReturnType<ReturnType<typeof runtimeContext>['desired']>,
  service: string,
): string {
  const spec = desired.containers.find((c) => c.service === service || c.name === service);
  if (!spec) throw new UsageError(`unknown service "${service}"; one of: ${START_ORDER.join(', ')}`);
  return spec.name;
}

export const restartHelp = `pic restart [service] [--dir DIR]
  Restarts one service (caddy, dns, ntp, wireguard, api) or, without a name, all of them.`;

export async function restart(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const ctx = runtimeContext(values.dir);
  await requireDocker(ctx.engine);
  const desired = ctx.desired();
  const names = positionals[0]
    ? [containerName(desired, positionals[0])]
    : desired.containers.map((c) => c.name);
  const observed = await ctx.engine.observe(desired.cellId);
  for (const name of names) {
    const c = observed.containers.find((o) => o.name === name);
    if (!c) throw new Error(`${name} does not exist: run \`./pic up\``);
    console.log(`  restart ${name}`);
    await ctx.engine.restart(c.id);
  }
  return 0;
}

export const logsHelp = `pic logs [service] [-f] [--tail N] [--dir DIR]
  Shows a service's container log (all services when none is named); -f follows it.`;

export async function logs(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const tail = values.tail ?? '100';
  if (!/^\d{1,6}$/.test(tail)) throw new UsageError('--tail must be a number');
  const ctx = runtimeContext(values.dir);
  await requireDocker(ctx.engine);
  const desired = ctx.desired();
  const names = positionals[0]
    ? [containerName(desired, positionals[0])]
    : desired.containers.map((c) => c.name);
  if (values.follow && names.length === 1) {
    return ctx.processes.run('docker', ['logs', '--follow', '--tail', tail, names[0]!]).status ?? 1;
  }
  if (values.follow) throw new UsageError('-f follows one service: name it');
  for (const name of names) {
    if (names.length > 1) console.log(`==> ${name} <==`);
    ctx.processes.run('docker', ['logs', '--tail', tail, name]);
  }
  return 0;
}

export const shellHelp = `pic shell <service> [--dir DIR]
  Opens a shell inside a service's container.`;

export async function shell(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals[0]) throw new UsageError('name a service: caddy, dns, ntp, wireguard or api');
  const ctx = runtimeContext(values.dir);
  await requireDocker(ctx.engine);
  const name = containerName(ctx.desired(), positionals[0]);
  const tty = process.stdin.isTTY ? ['-it'] : ['-i'];
  return ctx.processes.run('docker', ['exec', ...tty, name, 'sh']).status ?? 1;
}
