// `pic`: one command per capability; each lives in commands/. Exit codes: 0 ok, 1 failed, 2 usage.
import { admin, adminHelp, setupToken, setupTokenHelp } from './commands/admin.ts';
import { backup, backupHelp, restore, restoreHelp } from './commands/backup.ts';
import { compose, composeHelp } from './commands/compose.ts';
import { down, downHelp } from './commands/down.ts';
import { listPeers, listPeersHelp, peers, peersHelp, showRoutes, showRoutesHelp } from './commands/peers.ts';
import { serve, serveHelp } from './commands/serve.ts';
import { logs, logsHelp, restart, restartHelp, shell, shellHelp } from './commands/service-commands.ts';
import { status, statusHelp } from './commands/status.ts';
import { store, storeHelp } from './commands/store.ts';
import { uninstall, uninstallHelp } from './commands/uninstall.ts';
import { up, upHelp } from './commands/up.ts';
import { update, updateHelp } from './commands/update.ts';
import { EXIT, UsageError } from './usage.ts';

type Command = { run: (argv: string[]) => Promise<number>; help: string };

export const COMMANDS: Record<string, Command> = {
  up: { run: up, help: upHelp },
  down: { run: down, help: downHelp },
  restart: { run: restart, help: restartHelp },
  logs: { run: logs, help: logsHelp },
  shell: { run: shell, help: shellHelp },
  update: { run: update, help: updateHelp },
  uninstall: { run: uninstall, help: uninstallHelp },
  compose: { run: compose, help: composeHelp },
  serve: { run: serve, help: serveHelp },
  'setup-token': { run: setupToken, help: setupTokenHelp },
  status: { run: status, help: statusHelp },
  admin: { run: admin, help: adminHelp },
  backup: { run: backup, help: backupHelp },
  restore: { run: restore, help: restoreHelp },
  peers: { run: peers, help: peersHelp },
  'list-peers': { run: listPeers, help: listPeersHelp },
  'show-routes': { run: showRoutes, help: showRoutesHelp },
  store: { run: store, help: storeHelp },
};

function usage(): string {
  return ['usage: pic <command> [options]', ...Object.values(COMMANDS).map((c) => c.help)].join('\n\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    if (name) console.log(usage());
    else console.error(usage()); // no command at all is a usage error: stderr, exit 2
    return name ? EXIT.ok : EXIT.usage;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`pic: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return EXIT.ok;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`pic ${name}: ${e.message}\n\n${cmd.help}`);
      return EXIT.usage;
    }
    console.error(`pic ${name}: ${e.message}`);
    return EXIT.failed;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
