// The Settings heading and its sections (General, Backups): sub-pages of Settings are pages of their
// own (registry entries with `parent: '/settings'`), linked from here rather than from the sidebar.
import { Link, usePath } from '../router';

const SECTIONS = [
  { path: '/settings', label: 'General' },
  { path: '/settings/backups', label: 'Backups' },
];

export function SettingsHeader() {
  const path = usePath();
  return (
    <div>
      <h1 className="mb-3 text-2xl font-bold">Settings</h1>
      <nav
        aria-label="Settings sections"
        className="flex gap-1 border-b border-slate-200 dark:border-slate-800"
      >
        {SECTIONS.map((s) => (
          <Link
            key={s.path}
            href={s.path}
            aria-current={s.path === path ? 'page' : undefined}
            className={`-mb-px border-b-2 px-4 py-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
              s.path === path
                ? 'border-indigo-600 font-semibold text-indigo-700 dark:text-indigo-300'
                : 'border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100'
            }`}
          >
            {s.label}
          </Link>
        ))}
      </nav>
    </div>
  );
}
