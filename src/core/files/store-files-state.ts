// The store's side of the file browser: whether Files is installed, and the quota its manifest
// defaults to.
import { DEFAULT_QUOTA_MB, FILES_SERVICE_ID } from '../../schema/files.ts';
import type { InstalledServicesRepository } from '../ports/service-store.ts';
import type { FilesServiceState } from './files-service.ts';

export function storeFilesState(deps: {
  repo: InstalledServicesRepository;
  known: (id: string) => boolean;
}): () => FilesServiceState {
  return () => {
    const row = deps.repo.get(FILES_SERVICE_ID);
    if (!row) return deps.known(FILES_SERVICE_ID) ? 'not_installed' : 'unknown';
    const field = row.manifest.settings?.fields.find((f) => f.key === 'quota_mb');
    return {
      defaultQuotaMb:
        field?.type === 'integer' && field.default !== undefined ? field.default : DEFAULT_QUOTA_MB,
    };
  };
}
