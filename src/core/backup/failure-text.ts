// An error as the owner sees it in a target's last result, an audit row and a log line: one line,
// capped, and with every form of the given secrets removed (drivers never put one in a message; this
// is the second lock on that door).

export function failureText(err: unknown, secrets: ReadonlyArray<string | undefined> = []): string {
  let m = err instanceof Error ? err.message : typeof err === 'string' ? err : 'failed';
  for (const s of secrets)
    if (s && s.length >= 4)
      for (const form of [s, encodeURIComponent(s), Buffer.from(s).toString('base64')])
        m = m.split(form).join('[secret]');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const line = m.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return (line === '' ? 'failed' : line).slice(0, 300);
}
