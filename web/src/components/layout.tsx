// Sidebar + header. On narrow screens the sidebar becomes a drawer behind a menu button.
import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api } from '../api/client';
import { type PageDef, pageFor } from '../pages/registry';
import { servicePagePath } from '../pages/service-page';
import { Link, navigate, usePath } from '../router';
import { type Me, useSignOut } from '../session';
import { setTheme, storedTheme, type Theme } from '../theme';

export function Layout({ pages, me, children }: { pages: PageDef[]; me: Me; children: ReactNode }) {
  const path = usePath();
  const [open, setOpen] = useState(false);
  const signOut = useSignOut();
  const config = useQuery({
    queryKey: ['config'],
    queryFn: async () => (await api.GET('/api/config')).data,
    enabled: me.role === 'admin',
  });
  // The owner's config follows a rename at once; a peer (no access to the config) has it from /api/auth/me.
  const cellName = config.data?.identity.cell_name ?? me.cell_name;
  // The installed services, under the Service Store entry: each opens at its own address.
  const active = useQuery({
    queryKey: ['services-active'],
    queryFn: async () => (await api.GET('/api/services/active')).data,
    enabled: me.role === 'admin',
    refetchInterval: 30_000,
  });
  const installed = active.data?.services ?? [];
  // A section (Settings → Backups, a service's page → Service Store) marks its parent in the sidebar.
  const here = pageFor(pages, path);
  const current = here?.parent ?? here?.path ?? path;

  const nav = (
    <nav aria-label="Main" className="flex flex-col gap-1 p-3">
      {pages
        .filter((p) => !p.parent)
        .map((p) => (
          <Link
            key={p.path}
            href={p.path}
            onClick={() => setOpen(false)}
            aria-current={p.path === current ? 'page' : undefined}
            className={`flex items-center gap-3 rounded-md px-3 py-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
              p.path === current
                ? 'bg-indigo-50 font-semibold text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300'
                : 'hover:bg-slate-100 dark:hover:bg-slate-800'
            }`}
          >
            <span aria-hidden="true" className="w-5 text-center">
              {p.icon}
            </span>
            {p.label}
          </Link>
        ))}
      {installed.length > 0 && (
        <div className="mt-2 border-t border-slate-200 pt-2 dark:border-slate-800" data-testid="nav-services">
          <p className="px-3 pb-1 text-xs text-slate-500">Services</p>
          {installed.map((s) => (
            // Each installed service: its own page in the UI (settings, status, records), and for one
            // with an HTTPS route its address (webmail: https://mail.<domain>), opened in a new tab.
            <div key={s.id} className="flex items-center gap-1" data-testid={`nav-service-${s.id}`}>
              {s.url ? (
                <a
                  href={s.url}
                  target="_blank"
                  rel="noreferrer"
                  className="flex min-w-0 flex-1 items-center gap-3 rounded-md px-3 py-1.5 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
                >
                  <span aria-hidden="true" className="w-5 text-center">
                    ↗
                  </span>
                  <span className="truncate">{s.name}</span>
                  {s.state !== 'running' && <span className="text-xs text-slate-500">({s.state})</span>}
                </a>
              ) : (
                <Link
                  href={servicePagePath(s.id)}
                  onClick={() => setOpen(false)}
                  aria-current={path === servicePagePath(s.id) ? 'page' : undefined}
                  className="flex min-w-0 flex-1 items-center gap-3 rounded-md px-3 py-1.5 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
                >
                  <span aria-hidden="true" className="w-5 text-center">
                    ▸
                  </span>
                  <span className="truncate">{s.name}</span>
                  {s.state !== 'running' && <span className="text-xs text-slate-500">({s.state})</span>}
                </Link>
              )}
              {s.url && (
                <Link
                  href={servicePagePath(s.id)}
                  onClick={() => setOpen(false)}
                  title={`${s.name}: settings and accounts`}
                  aria-label="Manage"
                  aria-current={path === servicePagePath(s.id) ? 'page' : undefined}
                  className="rounded-md px-2 py-1.5 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
                >
                  <span aria-hidden="true">⚙</span>
                </Link>
              )}
            </div>
          ))}
        </div>
      )}
    </nav>
  );

  return (
    <div className="min-h-screen md:flex">
      <aside className="hidden w-56 shrink-0 border-r border-slate-200 bg-white md:block dark:border-slate-800 dark:bg-slate-900">
        <div className="px-6 py-4 text-lg font-bold">PIC</div>
        {nav}
      </aside>
      {open && (
        <div className="fixed inset-0 z-40 md:hidden">
          <button
            type="button"
            aria-label="Close menu"
            className="absolute inset-0 bg-black/40"
            onClick={() => setOpen(false)}
          />
          <aside className="absolute inset-y-0 left-0 w-64 bg-white shadow-xl dark:bg-slate-900">
            <div className="px-6 py-4 text-lg font-bold">PIC</div>
            {nav}
          </aside>
        </div>
      )}
      <div className="min-w-0 flex-1">
        <header className="flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-3 dark:border-slate-800 dark:bg-slate-900">
          <button type="button" className="btn-secondary px-3 md:hidden" onClick={() => setOpen(true)}>
            Menu
          </button>
          <div className="min-w-0 flex-1 truncate font-semibold" data-testid="cell-name">
            {cellName ?? 'Personal Internet Cell'}
          </div>
          <ThemeToggle />
          <span className="hidden text-sm text-slate-500 sm:inline">
            {me.username} ({me.role})
          </span>
          <button
            type="button"
            className="btn-secondary"
            onClick={async () => {
              await signOut();
              navigate('/login', true);
            }}
          >
            Log out
          </button>
        </header>
        <main className="mx-auto max-w-5xl p-4 md:p-8">{children}</main>
      </div>
    </div>
  );
}

function ThemeToggle() {
  const [theme, set] = useState<Theme>(storedTheme());
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="sr-only sm:not-sr-only">Theme</span>
      <select
        className="input w-auto py-1"
        value={theme}
        onChange={(e) => {
          const t = e.target.value as Theme;
          set(t);
          setTheme(t);
        }}
      >
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
