// The providers by name. Which can publish TXT (ACME DNS-01) is DDNS_TXT_PROVIDERS in the schema; a
// test keeps the two in step.
import type { DdnsProvider } from '../../../schema/ddns.ts';
import type { DdnsProviderImpl } from '../provider.ts';
import { cloudflare } from './cloudflare.ts';
import { duckdns } from './duckdns.ts';
import { freedns } from './freedns.ts';
import { noip } from './noip.ts';
import { picNgo } from './pic-ngo.ts';

export const PROVIDERS: Record<DdnsProvider, DdnsProviderImpl> = {
  pic_ngo: picNgo,
  cloudflare,
  duckdns,
  noip,
  freedns,
};
