import { parseArgs } from 'node:util';
import { openCell } from '../open-cell.ts';
import { defaultDataDir, UsageError } from '../usage.ts';

const openExisting = (dataDir: string) => openCell(dataDir);

export const setupTokenHelp = `pic setup-token [--data-dir DIR]
  Issues a new one-time setup token (the previous one stops working) and prints it on the last line.`;

export async function setupToken(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' } }, strict: true });
  const cell = openExisting(values['data-dir'] ?? defaultDataDir());
  try {
    const token = cell.deps.setup.issueToken();
    if (!token) {
      console.error(
        'Setup is already complete; there is no setup token. Use `pic admin reset-password` to regain access.',
      );
      return 1;
    }
    console.log('Setup token (any earlier token no longer works):');
    console.log(token);
    return 0;
  } finally {
    cell.close();
  }
}

export const adminHelp = `pic admin reset-password [--data-dir DIR] [--username NAME]
  Sets a new random password, turns two-factor login off, ends that user's sessions and prints the
  password once (on the last line).`;

export async function admin(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'reset-password')
    throw new UsageError(sub ? `unknown admin command "${sub}"` : 'missing admin command (reset-password)');
  const { values } = parseArgs({
    args: rest,
    options: { 'data-dir': { type: 'string' }, username: { type: 'string' } },
    strict: true,
  });
  const cell = openExisting(values['data-dir'] ?? defaultDataDir());
  try {
    if (!cell.deps.setup.isCompleted()) {
      console.error('Setup is not complete yet: finish the setup wizard (see `pic setup-token`).');
      return 1;
    }
    const username = values.username ?? 'admin';
    const { password, totpWasOn } = await cell.deps.auth.resetPassword(username);
    cell.deps.audit.record({
      source: 'cli',
      action: 'admin reset-password',
      target: `user=${username}`,
      detail: totpWasOn ? 'two-factor login turned off' : null,
    });
    console.log(
      totpWasOn
        ? `Two-factor login was turned off for ${username}; turn it on again under Security in the web UI.`
        : `Two-factor login was not on for ${username} (and stays off).`,
    );
    console.log(`New password for ${username} (shown once; all of ${username}'s sessions were ended):`);
    console.log(password);
    return 0;
  } finally {
    cell.close();
  }
}
