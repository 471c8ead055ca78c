// Every audit field is capped and escaped before it is stored: a user name with a newline, a 16 KB
// path or a terminal escape sequence must not forge a second line in an export, bloat the table or
// paint the owner's terminal. Control characters become \uXXXX; the backslash itself is doubled so
// that an escaped form can never be typed to look like another.

export const AUDIT_FIELD_MAX = {
  username: 64,
  role: 16,
  source: 64,
  action: 128,
  target: 256,
  detail: 1024,
} as const;

// C0, DEL, C1, and the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters being escaped
const UNSAFE = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function auditText(value: string, max: number): string {
  const escaped = value.replace(UNSAFE, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 1)}…`;
}

export const auditTextOrNull = (value: string | null | undefined, max: number): string | null =>
  value === null || value === undefined ? null : auditText(value, max);
