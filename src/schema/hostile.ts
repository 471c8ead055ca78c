// Values that would inject a config line, a command, an option or a path if they ever reached a
// rendered file or a process argument. Tests of every capability feed them to every user field:
// each must be refused with a 400 or stored and shown as plain data, never interpreted.
export const HOSTILE_STRINGS: readonly string[] = [
  ';id',
  '$(id)',
  '`id`',
  'a\nPostUp = x',
  'a\r\nb',
  '{env.HOME}',
  '{file./etc/shadow}',
  '../../etc/passwd',
  '/etc/passwd',
  '--help',
  '-x',
  'a b',
  "a'b",
  'a"b',
  'a\0b',
  'import x',
  '',
];
