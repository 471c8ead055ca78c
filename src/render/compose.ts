// Renders the desired state as a docker-compose.yml, for people who want to read one. Pure and
// deterministic; every string is emitted as a JSON (= YAML double-quoted) scalar, so no value can
// break the document's structure.
import type { DesiredState } from '../schema/runtime.ts';

const q = (s: string) => JSON.stringify(s);

export function renderCompose(d: DesiredState): string {
  const out: string[] = [
    `# Equivalent of the cell PIC runs (cell ${d.cellId}). PIC drives the Docker Engine API itself;`,
    '# this file is for reading and is not used by PIC.',
    'services:',
  ];
  for (const c of d.containers) {
    out.push(
      `  ${c.service}:`,
      `    container_name: ${q(c.name)}`,
      `    image: ${q(c.image)}`,
      '    restart: unless-stopped',
    );
    if (c.cmd) out.push(`    command: [${c.cmd.map(q).join(', ')}]`);
    const env = Object.entries(c.env).sort(([a], [b]) => (a < b ? -1 : 1));
    if (env.length) out.push('    environment:', ...env.map(([k, v]) => `      ${k}: ${q(v)}`));
    if (c.ports.length) {
      out.push(
        '    ports:',
        ...c.ports.map((p) => `      - ${q(`${p.hostIp}:${p.hostPort}:${p.container}/${p.proto}`)}`),
      );
    }
    const vols = c.binds.map((b) => `${b.host}:${b.container}${b.readOnly ? ':ro' : ''}`);
    if (c.mountDockerSocket) vols.push('/var/run/docker.sock:/var/run/docker.sock');
    if (vols.length) out.push('    volumes:', ...vols.map((v) => `      - ${q(v)}`));
    if (c.capAdd.length) out.push('    cap_add:', ...c.capAdd.map((v) => `      - ${q(v)}`));
    if (c.devices.length) out.push('    devices:', ...c.devices.map((v) => `      - ${q(`${v}:${v}`)}`));
    const sysctls = Object.entries(c.sysctls);
    if (sysctls.length) out.push('    sysctls:', ...sysctls.map(([k, v]) => `      ${k}: ${q(v)}`));
    if (c.groupAdd.length) out.push('    group_add:', ...c.groupAdd.map((v) => `      - ${q(v)}`));
    if (c.noNewPrivileges) out.push('    security_opt: ["no-new-privileges"]');
    out.push('    networks:', c.ip ? '      cell-network:' : '      cell-network: {}');
    if (c.ip) out.push(`        ipv4_address: ${q(c.ip)}`);
  }
  out.push(
    'networks:',
    '  cell-network:',
    `    name: ${q(d.network.name)}`,
    '    ipam:',
    '      config:',
    `        - subnet: ${q(d.network.subnet)}`,
    `          gateway: ${q(d.network.gateway)}`,
    '',
  );
  return out.join('\n');
}
