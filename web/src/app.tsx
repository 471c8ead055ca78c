// Top level: before setup everything goes to the wizard; without a session, to the login page;
// otherwise the layout with the page the path names.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api, onAuthEvent } from './api/client';
import { Layout } from './components/layout';
import { LoginPage } from './pages/login';
import { pageFor, pagesFor } from './pages/registry';
import { SetupWizard } from './pages/setup-wizard';
import { navigate, usePath } from './router';
import { useMe } from './session';

export function App() {
  const path = usePath();
  const qc = useQueryClient();
  const setup = useQuery({
    queryKey: ['setup-status'],
    queryFn: async () => (await api.GET('/api/setup/status')).data ?? { completed: false },
  });
  const me = useMe();

  useEffect(() => {
    onAuthEvent((kind) => {
      if (kind === 'setup_required') {
        qc.setQueryData(['setup-status'], { completed: false });
        navigate('/setup', true);
      } else {
        qc.setQueryData(['me'], null);
      }
    });
  }, [qc]);

  if (setup.isPending || (setup.data?.completed && me.isPending)) {
    return <p className="p-8 text-center text-slate-500">Loading…</p>;
  }
  if (!setup.data?.completed) {
    if (path !== '/setup') navigate('/setup', true);
    return <SetupWizard />;
  }
  if (!me.data) {
    if (path !== '/login') navigate('/login', true);
    return <LoginPage />;
  }
  const pages = pagesFor(me.data.role);
  const page = pageFor(pages, path);
  if (!page) {
    const home = pages[0]!.path;
    if (path !== home) navigate(home, true);
    const Home = pages[0]!.component;
    return (
      <Layout pages={pages} me={me.data}>
        <Home />
      </Layout>
    );
  }
  const Page = page.component;
  return (
    <Layout pages={pages} me={me.data}>
      <Page />
    </Layout>
  );
}
