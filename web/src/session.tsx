// Who is logged in: GET /api/auth/me, shared through TanStack Query. The CSRF token it returns is
// handed to the API client for state-changing requests.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, setCsrfToken } from './api/client';

export interface Me {
  username: string;
  role: 'admin' | 'peer';
  csrf_token: string;
  /** Whether two-factor login is on (absent right after setup, where it is off). */
  totp_enabled?: boolean;
  /** The cell's name, for the header (absent right after setup, where the owner's config has it). */
  cell_name?: string;
}

export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async (): Promise<Me | null> => {
      const { data, response } = await api.GET('/api/auth/me');
      if (!response.ok || !data) {
        setCsrfToken(undefined);
        return null;
      }
      setCsrfToken(data.csrf_token);
      return data;
    },
    staleTime: 60_000,
    retry: false,
  });
}

export function useSignedIn() {
  const qc = useQueryClient();
  return (me: Me) => {
    setCsrfToken(me.csrf_token);
    qc.setQueryData(['me'], me);
  };
}

export function useSignOut() {
  const qc = useQueryClient();
  return async () => {
    await call(api.POST('/api/auth/logout'));
    setCsrfToken(undefined);
    qc.clear();
    qc.setQueryData(['me'], null);
  };
}
