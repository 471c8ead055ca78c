// The store service manifest (issue 12, the spec's "Service Manifest Reference"): what a service
// needs from the cell, declared as data. Every value a generated config, a container spec or a
// process argument is built from is validated here by allow-list, so a manifest that parses can be
// rendered verbatim. What is *allowed* by shape but refused by policy (privileged mode, host
// namespaces, extra capabilities, held ports...) is decided in core/service-store/manifest-policy.ts,
// so a signed manifest asking for it gets a clear refusal rather than a parse error.
// docs/store/service-manifest.md documents each field; the JSON Schema export is a golden file.
import { z } from 'zod';
import { port } from './fields.ts';

export const SERVICE_MANIFEST_SCHEMA_VERSION = 1;

/**
 * Names the core holds: refused as service ids and as subdomains or DNS names a service claims.
 * `web`, `dns`, `ntp` are the core services' zone names (core/dns/cell-zone-model.ts).
 */
export const CORE_NAMES: readonly string[] = [
  'admin',
  'api',
  'ca',
  'caddy',
  'caddy-admin',
  'cell',
  'dns',
  'localhost',
  'ntp',
  'pic',
  'vpn',
  'web',
  'webui',
  'wg',
  'wireguard',
  'www',
];

/** A lowercase slug: a-z first, then a-z, 0-9 and inner hyphens. Safe in a path, a label, a name. */
function slug(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .regex(
      /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
      'must be a lowercase slug: a-z first, then a-z, 0-9, inner hyphens',
    );
}

// A pattern rather than a refine, so the JSON Schema given to authors carries the rule too.
export const serviceId = slug(2, 32).regex(
  new RegExp(`^(?!(?:${CORE_NAMES.join('|')})$)`),
  'is a name the core holds (api, caddy, dns, ntp, wireguard, webui, cell...)',
);

/** One line of printable text (UI only); no control or format characters. */
function text(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must be a single line of printable text');
}

const version = z
  .string()
  .max(64)
  .regex(
    /^\d{1,9}\.\d{1,9}\.\d{1,9}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/,
    'must be a semantic version such as 1.2.3 or 1.2.3-1',
  );

/**
 * One argv item, passed to Docker in exec form (never through a shell): any printable text, but no
 * control character (newline, NUL, tab...) that could split a line in a rendered file or a log.
 */
const argItem = z
  .string()
  .max(1024)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters (newline, NUL, tab)');
const argv = z.array(argItem).min(1).max(64);

/** A path segment: not `.`/`..`, no leading `-` (an option), no slash, whitespace or shell metacharacters. */
const SEGMENT = '(?!\\.{1,2}(?:/|$))(?!-)[A-Za-z0-9._@+-]+';

/** The build context of a built-in image, relative to the service's catalog folder (`.` = the folder). */
const buildDir = z
  .string()
  .max(128)
  .regex(
    new RegExp(`^(\\.|${SEGMENT}(/${SEGMENT})*)$`),
    'must be `.` or a relative path inside the service folder (no `..`, no leading `/`)',
  );

/**
 * A remote image, pinned by digest only: `<registry host[:port]>/<repo>@sha256:<64 hex>`. The registry
 * host is explicit (a dotted name, an IPv4 or localhost) so nothing falls back to Docker Hub; a tag is
 * never accepted because what runs must be exactly what was signed (ADR 0007).
 */
const REPO_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY =
  '(?:localhost|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)(?::\\d{1,5})?';
const imageRef = z
  .string()
  .max(300)
  .regex(
    new RegExp(`^${REGISTRY}/${REPO_PART}(?:/${REPO_PART})*@sha256:[0-9a-f]{64}$`),
    'must be <registry host[:port]>/<repo>@sha256:<64 hex digits> (by digest, never a tag)',
  );

const image = z.union([z.object({ build: buildDir }).strict(), z.object({ ref: imageRef }).strict()]);

/** An environment variable name: what a POSIX shell and Docker both take as-is. */
const envName = z
  .string()
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name: letters, digits, underscore');
const envValue = z
  .string()
  .max(1024)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters (newline, NUL)');

/** An absolute, normalised path inside the container: no `..`, `.`, `//` or trailing slash. */
const containerPath = z
  .string()
  .max(256)
  .regex(
    new RegExp(`^(/${SEGMENT})+$`),
    'must be an absolute normalised path such as /var/lib/app (no `..`, no trailing /)',
  );

/** A volume: `data/services/<id>/<name>` on the host, mounted at `path` in the container. */
const volume = z.object({ name: slug(1, 32), path: containerPath }).strict();

/** Capability names as Docker takes them, without the CAP_ prefix; the policy holds the allow-list. */
const capability = z.string().regex(/^[A-Z][A-Z_]{1,31}$/, 'must be a capability name such as CHOWN');

const devicePath = z
  .string()
  .max(64)
  .regex(new RegExp(`^/dev(/${SEGMENT})+$`), 'must be a device path under /dev');

/** Docker's namespace modes; any shape is parsed so the policy can refuse host/container: by name. */
const namespaceMode = z
  .string()
  .max(80)
  .regex(/^[a-z][a-z0-9_.:-]*$/, 'must be a namespace mode such as none or private');

const containerUser = z
  .string()
  .max(65)
  .regex(
    /^[a-z0-9_][a-z0-9_.-]{0,31}(:[a-z0-9_][a-z0-9_.-]{0,31})?$/,
    'must be user[:group] by name or number',
  );

const healthcheck = z
  .object({
    /** argv run in the container (exec form); exit 0 = healthy. */
    test: argv,
    interval_s: z.number().int().min(1).max(3600),
    timeout_s: z.number().int().min(1).max(600),
    retries: z.number().int().min(1).max(20),
  })
  .strict();

export const containerNameField = slug(1, 32);

const container = z
  .object({
    name: containerNameField,
    image,
    environment: z
      .record(envName, envValue)
      .refine((e) => Object.keys(e).length <= 64, 'must have at most 64 variables')
      .optional(),
    command: argv.optional(),
    entrypoint: argv.optional(),
    volumes: z.array(volume).max(16).optional(),
    capabilities: z.array(capability).max(16).optional(),
    devices: z.array(devicePath).max(4).optional(),
    privileged: z.boolean().optional(),
    network_mode: namespaceMode.optional(),
    pid_mode: namespaceMode.optional(),
    ipc_mode: namespaceMode.optional(),
    read_only: z.boolean().optional(),
    memory_limit_mb: z.number().int().min(16).max(16384).optional(),
    healthcheck: healthcheck.optional(),
    user: containerUser.optional(),
  })
  .strict();

const proto = z.enum(['tcp', 'udp']);

const hostPort = z.object({ proto, port, container: containerNameField, container_port: port }).strict();

const httpRoute = z.object({ subdomain: slug(1, 63), container: containerNameField, port }).strict();

const firewallRule = z.object({ proto, port }).strict();

/**
 * argv placeholders for account hooks. Only `{username}` exists, and only as a whole argv item: the
 * store substitutes a value parsed by the `username` field. The password is never in argv (argv is
 * visible in `ps` and in Docker's exec records): `add` reads it as one line on stdin.
 */
export const USERNAME_PLACEHOLDER = '{username}';

function hookArgv(mustNameUser: boolean) {
  return argv.superRefine((items, ctx) => {
    items.forEach((item, i) => {
      if (item === USERNAME_PLACEHOLDER) return;
      if (/\{password\}/i.test(item))
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: 'the password is never passed in argv: `add` reads it as one line on stdin',
        });
      else if (/[{}]/.test(item))
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: 'the only placeholder is {username}, as a whole argv item',
        });
    });
    const named = items.includes(USERNAME_PLACEHOLDER);
    if (mustNameUser && !named)
      ctx.addIssue({ code: 'custom', message: 'must have {username} as one argv item' });
    if (!mustNameUser && named)
      ctx.addIssue({ code: 'custom', message: 'takes no {username}: it lists every account' });
  });
}

const accounts = z
  .object({
    container: containerNameField,
    /** Creates or updates the account `{username}`; the password arrives on stdin, one line. */
    add: hookArgv(true),
    remove: hookArgv(true),
    /** Prints one username per line on stdout. */
    list: hookArgv(false),
  })
  .strict();

/** A hook run in the service's container with no placeholder at all (argv only, exec form). */
const plainHook = argv.superRefine((items, ctx) => {
  items.forEach((item, i) => {
    if (/[{}]/.test(item))
      ctx.addIssue({ code: 'custom', path: [i], message: 'takes no placeholder: input arrives on stdin' });
  });
});

/**
 * Certificates the store keeps in a volume of the service (issue 13): `ca.pem` (the root that issued
 * the cell's certificates), and with `certificate: true` also `fullchain.pem` and `privkey.pem` (0600,
 * owned by the container's user) for the service's names (`dns_names` and route subdomains, each under
 * the cell's domain). Written before the first start and again on every renewal, after which `reload`
 * runs in `container` (a daemon re-reads its certificate without dropping connections).
 */
const tls = z
  .object({
    container: containerNameField,
    /** The name of a volume `container` declares; the files are written at its top level. */
    volume: slug(1, 32),
    certificate: z.boolean(),
    reload: plainHook.optional(),
  })
  .strict();

/**
 * DNS records the service needs in the cell's zone besides its names (MX, SPF, DKIM, DMARC...).
 * `list` prints a JSON array on stdout: `[{"name": "@", "type": "MX", "value": "10 mail.<domain>."}]`,
 * each record checked by the DNS records API's rules (schema/dns.ts) and by the policy's name rules
 * (the zone's apex, `_`-prefixed names, and the service's own names only). Run after each start.
 */
const dnsRecordsHook = z.object({ container: containerNameField, list: plainHook }).strict();

/** A settings key: lowercase words joined by underscores (`smarthost_host`). */
export const settingKey = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be lowercase letters, digits and underscores, a letter first');

const fieldBase = { key: settingKey, label: text(64), help: text(300).optional() };

/**
 * One setting the owner may change (issue 13: the mail smarthost, the quota, aliases). Values are
 * checked by type before they reach the service: `text` is one printable line; `host` a DNS name or
 * an IP address (empty = unset); `secret` is sealed at rest and never returned by the API; `aliases`
 * is a list of `{alias, to}` (a local part and an account's username).
 */
const settingField = z.discriminatedUnion('type', [
  z
    .object({ ...fieldBase, type: z.literal('text'), max: z.number().int().min(1).max(512).optional() })
    .strict(),
  z.object({ ...fieldBase, type: z.literal('host') }).strict(),
  z.object({ ...fieldBase, type: z.literal('port'), default: port.optional() }).strict(),
  z.object({ ...fieldBase, type: z.literal('secret') }).strict(),
  z
    .object({
      ...fieldBase,
      type: z.literal('integer'),
      min: z.number().int(),
      max: z.number().int(),
      default: z.number().int().optional(),
    })
    .strict(),
  z.object({ ...fieldBase, type: z.literal('boolean'), default: z.boolean().optional() }).strict(),
  z.object({ ...fieldBase, type: z.literal('aliases') }).strict(),
]);

/**
 * Settings: the store keeps the values and runs `apply` in `container` after each start and each
 * change, with every value as one JSON object on stdin (secrets included: stdin, never argv).
 */
const settings = z
  .object({
    container: containerNameField,
    apply: plainHook,
    fields: z.array(settingField).min(1).max(24),
  })
  .strict();

/** A read-only status the service page shows (the mail queue): `command` prints a JSON object. */
const statusHook = z.object({ container: containerNameField, command: plainHook }).strict();

export const serviceManifestSchema = z
  .object({
    schema_version: z.literal(SERVICE_MANIFEST_SCHEMA_VERSION),
    id: serviceId,
    name: text(64),
    description: text(500),
    version,
    /** `app`: a service peers use; `exit`: a connectivity exit (may hold NET_ADMIN and /dev/net/tun). */
    kind: z.enum(['app', 'exit']),
    requires: z.array(slug(2, 32)).max(8).optional(),
    containers: z.array(container).min(1).max(8),
    /**
     * Published on the host while the service is installed (mail's 25/587/993), and answered at the
     * service's virtual IP for peers granted the service, so `mail.<domain>` works over the VPN too.
     */
    host_ports: z.array(hostPort).max(16).optional(),
    /**
     * HTTPS names. A route's subdomain may be a name the service's dependency holds (webmail's `mail`
     * on email's address): it is then served on that service's virtual IP.
     */
    http_routes: z.array(httpRoute).max(8).optional(),
    /** Names (`<name>.<domain>`) at the service's virtual IP, besides its routes' subdomains. */
    dns_names: z.array(slug(1, 63)).max(8).optional(),
    firewall: z.array(firewallRule).max(32).optional(),
    accounts: accounts.optional(),
    backup_volumes: z.array(slug(1, 32)).max(16).optional(),
    tls: tls.optional(),
    dns_records: dnsRecordsHook.optional(),
    settings: settings.optional(),
    status: statusHook.optional(),
  })
  .strict();

export type ServiceManifest = z.infer<typeof serviceManifestSchema>;
export type ServiceContainer = ServiceManifest['containers'][number];
export type ServiceVolumeDecl = NonNullable<ServiceContainer['volumes']>[number];
export type ServiceHostPort = NonNullable<ServiceManifest['host_ports']>[number];
export type ServiceAccountHooks = NonNullable<ServiceManifest['accounts']>;
export type ServiceTls = NonNullable<ServiceManifest['tls']>;
export type ServiceSettings = NonNullable<ServiceManifest['settings']>;
export type ServiceSettingField = ServiceSettings['fields'][number];

/** A manifest problem, its path in the manifest's JSON written with dots (`containers.0.image.ref`). */
export interface ManifestProblem {
  path: string;
  message: string;
}

export type ManifestParse =
  | { ok: true; manifest: ServiceManifest }
  | { ok: false; problems: ManifestProblem[] };

export function parseServiceManifest(input: unknown): ManifestParse {
  const r = serviceManifestSchema.safeParse(input);
  if (r.success) return { ok: true, manifest: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => ({
      path: i.path.map(String).join('.') || '(manifest)',
      message: i.message,
    })),
  };
}

/** Where a volume lives on the host, relative to the cell directory. */
export function serviceVolumeHostPath(id: string, volumeName: string): string {
  return `data/services/${id}/${volumeName}`;
}

/** The JSON Schema given to service authors (docs/store/service-manifest.schema.json). */
export function serviceManifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(serviceManifestSchema, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://pic.ngo/schemas/service-manifest-v1.json',
    title: 'PIC store service manifest',
  };
}
