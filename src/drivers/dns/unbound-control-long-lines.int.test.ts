// unbound-control reads each `local_datas` line into a 2048-byte buffer; a longer line (a TXT near
// TXT_MAX) ends its reading without an "error" line and exit 0, so the rest of the batch is silently
// dropped. The driver must never send such a line live: the record has to be served after the apply.
// Both paths: unbound-control as a process, and pic-dns-control speaking the protocol itself.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import type { CellZoneInput, ZoneRecord } from '../../render/unbound/cell-zone.ts';
import { TXT_MAX } from '../../schema/dns.ts';
import { type Exec, localExec, type UnboundControl } from './unbound-control.ts';
import { localControlSession, startControlled, type TestUnbound } from './unbound-kit.ts';

const ZONE = 'mycell.cell';
const base: ZoneRecord[] = [{ name: '@', type: 'A', value: '172.20.0.2', ttl: 300 }];
const zone = (records: ZoneRecord[]): CellZoneInput => ({ zone: ZONE, records, views: [] });
const session = localControlSession();
const paths: Array<[string, Exec]> = [
  ['unbound-control', localExec],
  ['pic-dns-control', session.exec],
];
after(() => session.close());

for (const [path, exec] of paths)
  describe(`unbound-control driver: records longer than a control line (${path})`, () => {
    let ub: TestUnbound;
    let dns: UnboundControl;
    const resolver = () => {
      const r = new Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`127.0.0.1:${ub.port}`]);
      return r;
    };

    before(async () => {
      ({ ub, dns } = await startControlled({ exec }));
    });
    after(() => ub?.stop());

    test('a TXT of TXT_MAX characters and the records after it are served once applied', async () => {
      assert.equal((await dns.apply(zone(base))).mode, 'full');
      const long = 'a'.repeat(TXT_MAX);
      await dns.apply(
        zone([
          ...base,
          { name: 'long', type: 'TXT', value: long, ttl: 300 },
          { name: 'zz', type: 'A', value: '192.0.2.9', ttl: 300 },
        ]),
      );
      const txt = await resolver().resolveTxt(`long.${ZONE}`);
      assert.equal(txt[0]?.join(''), long);
      assert.deepEqual(await resolver().resolve4(`zz.${ZONE}`), ['192.0.2.9']);
    });
  });
