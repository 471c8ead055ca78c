// Every page of the app, in the spec's navigation order. The sidebar shows the pages registered
// here that the user's role may open; a capability adds its page with one entry (see web/README.md).
import type { ComponentType } from 'react';
import { BackupsPage } from './backups';
import { ContainersPage } from './containers';
import { DashboardPage } from './dashboard';
import { FilesPage } from './files';
import { LogsPage } from './logs';
import { MyAccountPage } from './my-account';
import { NetworkServicesPage } from './network-services';
import { PeersPage } from './peers';
import { SERVICE_PAGE_PREFIX, ServicePage } from './service-page';
import { ServiceStorePage } from './service-store';
import { SettingsPage } from './settings';
import { VaultPage } from './vault';
import { WireguardPage } from './wireguard';

export interface PageDef {
  path: string;
  label: string;
  /** A single character or emoji shown beside the label. */
  icon: string;
  roles: ReadonlyArray<'admin' | 'peer'>;
  component: ComponentType;
  /** A section of another page (its path): not in the sidebar, which marks the parent instead. */
  parent?: string;
  /** `path` is a prefix: the page answers every path under it (`/services/<id>`). */
  prefix?: boolean;
}

// Spec order: Dashboard, Peers, Network Services, WireGuard, Email, Calendar, Files, Routing,
// Vault, Containers, Cell Network, Connectivity, Service Store, Logs, Settings.
export const PAGES: PageDef[] = [
  { path: '/', label: 'Dashboard', icon: '◉', roles: ['admin'], component: DashboardPage },
  { path: '/peers', label: 'Peers', icon: '⇄', roles: ['admin'], component: PeersPage },
  {
    path: '/network',
    label: 'Network Services',
    icon: '⌁',
    roles: ['admin'],
    component: NetworkServicesPage,
  },
  { path: '/wireguard', label: 'WireGuard', icon: '◈', roles: ['admin'], component: WireguardPage },
  { path: '/files', label: 'Files', icon: '▤', roles: ['admin'], component: FilesPage },
  { path: '/vault', label: 'Vault', icon: '✓', roles: ['admin'], component: VaultPage },
  { path: '/containers', label: 'Containers', icon: '▦', roles: ['admin'], component: ContainersPage },
  { path: '/services', label: 'Service Store', icon: '▣', roles: ['admin'], component: ServiceStorePage },
  {
    path: SERVICE_PAGE_PREFIX,
    label: 'Service',
    icon: '▣',
    roles: ['admin'],
    component: ServicePage,
    parent: '/services',
    prefix: true,
  },
  { path: '/logs', label: 'Logs', icon: '☰', roles: ['admin'], component: LogsPage },
  { path: '/settings', label: 'Settings', icon: '⚙', roles: ['admin'], component: SettingsPage },
  {
    path: '/settings/backups',
    label: 'Backups',
    icon: '⛁',
    roles: ['admin'],
    component: BackupsPage,
    parent: '/settings',
  },
  { path: '/account', label: 'My account', icon: '☺', roles: ['peer'], component: MyAccountPage },
  // A peer's own folder (after My account: a peer's first page stays its account).
  { path: '/files', label: 'My files', icon: '▤', roles: ['peer'], component: FilesPage },
];

export function pagesFor(role: 'admin' | 'peer'): PageDef[] {
  return PAGES.filter((p) => p.roles.includes(role));
}

/** The page a path opens: an exact path first, then a prefix page (`/services/<id>`). */
export function pageFor(pages: readonly PageDef[], path: string): PageDef | undefined {
  return (
    pages.find((p) => !p.prefix && p.path === path) ??
    pages.find((p) => p.prefix && path.startsWith(p.path) && path.length > p.path.length)
  );
}
