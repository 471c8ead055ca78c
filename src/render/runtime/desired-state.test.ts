// desiredState: the containers, their binds and the files each daemon runs from; the spec hash.
import assert from 'node:assert/strict';
import { describe as group, test } from 'node:test';
import { defaultConfig } from '../../schema/config.ts';
import { parseEnvFile } from '../../schema/runtime.ts';
import { desiredState } from './desired-state.ts';
import { specHash } from './spec-hash.ts';

const desired = desiredState({
  config: defaultConfig(),
  env: {},
  cellDir: '/opt/pic',
  dockerGid: 998,
});

group('desired state', () => {
  test('static addresses come from one offset table; the API port is loopback only', () => {
    const byService = Object.fromEntries(desired.containers.map((c) => [c.service, c]));
    assert.equal(byService.caddy!.ip, '172.20.0.2');
    assert.equal(byService.dns!.ip, '172.20.0.3');
    assert.equal(byService.api!.ip, '172.20.0.10');
    assert.deepEqual(
      byService.api!.ports.map((p) => p.hostIp),
      ['127.0.0.1'],
    );
  });

  test('only cell-api mounts the Docker socket; only cell-wireguard gets NET_ADMIN; nothing is privileged', () => {
    assert.deepEqual(
      desired.containers.filter((c) => c.mountDockerSocket).map((c) => c.service),
      ['api'],
    );
    assert.deepEqual(
      desired.containers.filter((c) => c.capAdd.length).map((c) => [c.service, c.capAdd]),
      [['wireguard', ['NET_ADMIN']]],
    );
  });

  test('.env: known variables parse, unknown or bad ones are errors naming the key', () => {
    assert.deepEqual(parseEnvFile('# comment\n\nWG_PORT=51821\nCELL_NETWORK=10.5.0.0/16\n'), {
      WG_PORT: 51821,
      CELL_NETWORK: '10.5.0.0/16',
    });
    assert.throws(() => parseEnvFile('FLASK_DEBUG=1'), /FLASK_DEBUG: not a known variable/);
    assert.throws(() => parseEnvFile('CELL_NETWORK=8.8.0.0/16'), /CELL_NETWORK/);
    assert.throws(() => parseEnvFile('WG_PORT=70000'), /WG_PORT/);
    assert.throws(() => parseEnvFile('just words'), /line 1/);
  });

  test('the spec hash is stable and sees nested changes', () => {
    const c = desired.containers[0]!;
    assert.equal(specHash(c, 'img'), specHash(structuredClone(c), 'img'));
    const changed = structuredClone(c);
    changed.ports[0]!.hostPort = 5353;
    assert.notEqual(specHash(changed, 'img'), specHash(c, 'img'));
    assert.notEqual(specHash(c, 'img2'), specHash(c, 'img'));
  });
});

group('rendered files', () => {
  const byService = (d: typeof desired) => Object.fromEntries(d.containers.map((c) => [c.service, c]));

  test('each daemon gets its files in its own config directory, mounted read-only; cell-api mounts them writable at the same path', () => {
    const s = byService(desired);
    assert.deepEqual(
      desired.containers.flatMap((c) =>
        c.files.map((f) => `${c.service}:${f.path}${f.live ? ' (live)' : ''}`),
      ),
      [
        'dns:/opt/pic/config/dns/forward.conf',
        'dns:/opt/pic/config/dns/control-interfaces.conf',
        'ntp:/opt/pic/config/ntp/chrony.conf',
        'caddy:/opt/pic/config/caddy/caddy.json (live)',
      ],
    );
    for (const c of desired.containers) {
      for (const f of c.files) {
        const b = c.binds.find((x) => f.path.startsWith(`${x.host}/`));
        assert.ok(b?.readOnly, `${f.path} is in a read-only bind of ${c.service}`);
        const api = s.api!.binds.find((x) => x.host === b.host);
        assert.ok(api && !api.readOnly && api.container === b.host, `cell-api writes ${b.host}`);
        assert.equal(api.uid, b.uid, 'one owner for a directory mounted twice');
      }
    }
    assert.match(s.dns!.files[1]!.content, /control-interface: 127\.0\.0\.1$/m);
    assert.doesNotMatch(s.dns!.files[1]!.content, /172\.20/);
    assert.match(s.caddy!.files[0]!.content, /"dial": "172\.20\.0\.10:3000"/);
  });

  test('a configuration change that renders differently changes the spec hash; a live file does not', () => {
    const config = defaultConfig();
    config.network.ntp_servers = ['192.168.1.1'];
    config.network.dns_forwarders = ['192.168.1.1'];
    const changed = byService(desiredState({ config, env: {}, cellDir: '/opt/pic', dockerGid: 998 }));
    const s = byService(desired);
    assert.notEqual(specHash(changed.ntp!, 'img'), specHash(s.ntp!, 'img'));
    assert.notEqual(specHash(changed.dns!, 'img'), specHash(s.dns!, 'img'));
    assert.equal(specHash(changed.caddy!, 'img'), specHash(s.caddy!, 'img'));
    const caddy = structuredClone(s.caddy!);
    caddy.files[0]!.content = '{}';
    assert.equal(specHash(caddy, 'img'), specHash(s.caddy!, 'img'));
  });

  test('installed store services: Caddy servers of their own in the live caddy.json, no container recreated', () => {
    const store = [
      {
        serviceId: 'calendar',
        subdomain: 'calendar',
        virtualIp: '172.20.0.64',
        upstream: 'cell-calendar_radicale:5232',
      },
    ];
    const withStore = desiredState({
      config: defaultConfig(),
      env: {},
      cellDir: '/opt/pic',
      dockerGid: 998,
      store,
    });
    const caddy = byService(withStore).caddy!;
    const cfg = JSON.parse(caddy.files[0]!.content);
    const domain = defaultConfig().identity.domain;
    assert.deepEqual(cfg.apps.http.servers['store-calendar-https'].listen, ['172.20.0.2:20064']);
    assert.deepEqual(cfg.apps.http.servers['store-calendar-https'].routes[1].match, [
      { host: [`calendar.${domain}`] },
    ]);
    assert.deepEqual(cfg.apps.http.servers['store-calendar-http'].listen, ['172.20.0.2:21064']);
    for (const c of withStore.containers) {
      const before = desired.containers.find((d) => d.service === c.service)!;
      assert.equal(specHash(c, 'img'), specHash(before, 'img'), c.service);
    }
  });

  test("the host's facts reach cell-api's environment only, and a change of them recreates cell-api alone", () => {
    const host = { address: '192.168.1.20', name: 'nas', addresses: ['192.168.1.20'] };
    const withFacts = byService(
      desiredState({ config: defaultConfig(), env: {}, cellDir: '/opt/pic', dockerGid: 998, host }),
    );
    const s = byService(desired);
    assert.equal(s.api!.env.PIC_HOST_FACTS, undefined);
    assert.deepEqual(JSON.parse(withFacts.api!.env.PIC_HOST_FACTS!), host);
    for (const service of ['caddy', 'dns', 'ntp', 'wireguard'] as const)
      assert.equal(specHash(withFacts[service]!, 'img'), specHash(s[service]!, 'img'), service);
    assert.notEqual(specHash(withFacts.api!, 'img'), specHash(s.api!, 'img'));
  });

  test('cell-caddy: HTTPS on 443 (HTTPS_PORT overrides), admin socket and certificate shared with cell-api only', () => {
    const s = byService(desired);
    assert.deepEqual(
      s.caddy!.ports.map((p) => [p.container, p.hostPort]),
      [
        [80, 80],
        [443, 443],
        [8081, 8081],
      ],
    );
    const other = byService(
      desiredState({
        config: defaultConfig(),
        env: { HTTPS_PORT: 8443 },
        cellDir: '/opt/pic',
        dockerGid: 998,
      }),
    );
    assert.deepEqual(other.caddy!.ports[1], {
      container: 443,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostPort: 8443,
    });
    assert.match(other.caddy!.files[0]!.content, /https:\/\/\{http\.request\.host\}:8443/);
    const shared = ['/opt/pic/data/caddy-admin', '/opt/pic/data/caddy-tls'];
    for (const c of desired.containers) {
      const mounts = c.binds.filter((b) => shared.includes(b.host));
      if (c.service === 'caddy' || c.service === 'api') assert.equal(mounts.length, 2, c.service);
      else assert.deepEqual(mounts, [], `${c.service} mounts neither`);
    }
    const tls = s.caddy!.binds.find((b) => b.host === '/opt/pic/data/caddy-tls')!;
    assert.deepEqual(
      [tls.container, tls.readOnly, tls.uid, tls.gid, tls.mode],
      ['/etc/pic/caddy-tls', true, 1000, 970, 0o2750],
    );
    const admin = s.caddy!.binds.find((b) => b.host === '/opt/pic/data/caddy-admin')!;
    assert.deepEqual(
      [admin.container, admin.uid, admin.gid, admin.mode],
      ['/run/pic/caddy-admin', 970, 970, 0o2770],
    );
    assert.ok(s.api!.groupAdd.includes('970'));
    assert.equal(s.caddy!.env.CADDY_ADMIN_SOCKET, '/run/pic/caddy-admin/admin.sock');
    assert.ok(!s.caddy!.ports.some((p) => p.container === 2019), 'no admin port');
  });

  test('a public mode serves HTTPS too: the certificate cell-api delivers (the ACME one once obtained)', () => {
    const config = defaultConfig();
    config.identity.domain_mode = 'custom';
    config.identity.domain = 'home.example.org';
    const s = byService(desiredState({ config, env: {}, cellDir: '/opt/pic', dockerGid: 998 }));
    assert.ok(s.caddy!.ports.some((p) => p.container === 443));
    assert.match(s.caddy!.files[0]!.content, /load_files/);
    assert.match(s.caddy!.files[0]!.content, /"\*\.home\.example\.org"/);
  });
});
