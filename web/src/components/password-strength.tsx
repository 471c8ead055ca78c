// A password strength estimate: length and character classes, minus common patterns. The server
// only enforces the minimum length (12); the meter steers people toward better passwords.

const COMMON = [
  'password',
  'passwort',
  '123456',
  'qwerty',
  'letmein',
  'admin',
  'welcome',
  'iloveyou',
  'abc123',
];

export function passwordScore(pw: string): { score: 0 | 1 | 2 | 3 | 4; label: string; hints: string[] } {
  const hints: string[] = [];
  let points = 0;
  if (pw.length >= 12) points++;
  else hints.push('Use at least 12 characters.');
  if (pw.length >= 16) points++;
  if (pw.length >= 20) points++;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  if (classes >= 3) points++;
  else if (pw.length < 20)
    hints.push('Mix upper and lower case, digits and symbols, or use a long passphrase.');
  const lower = pw.toLowerCase();
  if (COMMON.some((c) => lower.includes(c))) {
    points -= 2;
    hints.push('Avoid common words such as "password" or "qwerty".');
  }
  if (/(.)\1{3,}/.test(pw) || /(0123|1234|2345|3456|4567|5678|6789|abcd)/i.test(pw)) {
    points -= 1;
    hints.push('Avoid repeated characters and sequences.');
  }
  if (pw.length < 12) points = Math.min(points, 0);
  const score = Math.max(0, Math.min(4, points)) as 0 | 1 | 2 | 3 | 4;
  return { score, label: ['Too weak', 'Weak', 'Fair', 'Good', 'Strong'][score]!, hints };
}

const COLORS = ['bg-red-500', 'bg-orange-500', 'bg-yellow-500', 'bg-lime-500', 'bg-green-600'];

export function PasswordStrength({ password }: { password: string }) {
  if (!password) return null;
  const { score, label, hints } = passwordScore(password);
  return (
    <div className="mt-2" data-testid="password-strength">
      <div className="flex gap-1" aria-hidden="true">
        {[0, 1, 2, 3].map((i) => (
          <div
            key={i}
            className={`h-1.5 flex-1 rounded ${i < score ? COLORS[score] : 'bg-slate-200 dark:bg-slate-700'}`}
          />
        ))}
      </div>
      <p className="mt-1 text-xs">
        Strength: <strong>{label}</strong>
        {hints.length > 0 && <span className="text-slate-500"> — {hints[0]}</span>}
      </p>
    </div>
  );
}
