// An Apple configuration profile (.mobileconfig) that adds a peer's accounts on one service to an
// iPhone, iPad or Mac in one tap, and with them the cell's CA certificate (the device still asks its
// owner to trust it). Each kind of profile is one entry of PROFILES: `dav` (calendar and contacts:
// CalDAV and CardDAV on 443) and `mail` (one IMAP account, com.apple.mail.managed: IMAPS on 993 and
// submission on 587 with STARTTLS, the address as the login). The password is embedded, as the
// calendar's profile always did: the profile is handed only to the peer itself, over its session.
// Unsigned: iOS shows it as such and installs it after the owner confirms. The UUIDs are derived from
// the cell, service and account, so downloading the profile again replaces it on the device instead
// of adding a second one.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { domainName } from '../../schema/fields.ts';

const printable = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII');

const input = z
  .object({
    cellName: z.string().regex(/^[a-z0-9-]{1,63}$/),
    /** Which accounts the profile adds (default `dav`, the calendar's). */
    kind: z.enum(['dav', 'mail']).default('dav'),
    /** `dav`: `calendar.<domain>`, where CalDAV and CardDAV answer on 443. `mail`: `mail.<domain>`. */
    host: domainName,
    /** `mail`: the mailbox's address (`<username>@<domain>`), also its login. */
    address: z
      .string()
      .max(254)
      .refine((a) => {
        const [local, domain, more] = a.split('@');
        return (
          more === undefined &&
          /^[a-z0-9][a-z0-9_-]{0,31}$/.test(local ?? '') &&
          domainName.safeParse(domain).success
        );
      }, 'must be username@domain')
      .optional(),
    username: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
    password: printable,
    /** The cell CA's certificate (PEM), offered for the device to trust; absent: left out. */
    caPem: z
      .string()
      .regex(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/)
      .optional(),
  })
  .strict()
  .refine((i) => i.kind !== 'mail' || i.address !== undefined, {
    message: 'a mail profile needs the address',
    path: ['address'],
  });

export type MobileconfigInput = z.input<typeof input>;

const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A UUID (v4 layout) from a name: the same name gives the same UUID. */
function uuidFor(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

type Value = string | number | boolean;

function dict(entries: Record<string, Value>, indent: string): string {
  const lines = Object.entries(entries).map(([k, v]) => {
    const value =
      typeof v === 'boolean'
        ? v
          ? '<true/>'
          : '<false/>'
        : typeof v === 'number'
          ? `<integer>${v}</integer>`
          : `<string>${xml(v)}</string>`;
    return `${indent}  <key>${xml(k)}</key>\n${indent}  ${value}`;
  });
  return `${indent}<dict>\n${lines.join('\n')}\n${indent}</dict>`;
}

type Parsed = z.output<typeof input>;

/** What each kind of profile adds: its payloads, its name and the service its identifiers name. */
const PROFILES: Record<
  Parsed['kind'],
  { service: string; title: string; payloads: (i: Parsed, id: string) => string[] }
> = {
  dav: {
    service: 'calendar',
    title: 'calendar and contacts',
    payloads: (i, id) => {
      const account = (kind: 'CalDAV' | 'CardDAV', type: string, label: string) =>
        dict(
          {
            [`${kind}AccountDescription`]: `${i.cellName}: ${label}`,
            [`${kind}HostName`]: i.host,
            [`${kind}Port`]: 443,
            [`${kind}PrincipalURL`]: `/${i.username}/`,
            [`${kind}UseSSL`]: true,
            [`${kind}Username`]: i.username,
            [`${kind}Password`]: i.password,
            PayloadDisplayName: label,
            PayloadIdentifier: `${id}.${kind.toLowerCase()}`,
            PayloadType: type,
            PayloadUUID: uuidFor(`${id}.${kind}`),
            PayloadVersion: 1,
          },
          '    ',
        );
      return [
        account('CalDAV', 'com.apple.caldav.account', 'Calendar'),
        account('CardDAV', 'com.apple.carddav.account', 'Contacts'),
      ];
    },
  },
  mail: {
    service: 'email',
    title: 'email',
    // IMAPS on 993 (TLS from the first byte) and submission on 587: Apple's `UseSSL` on the outgoing
    // server means TLS, which the device negotiates with STARTTLS on 587.
    payloads: (i, id) => [
      dict(
        {
          EmailAccountDescription: `${i.cellName}: Email`,
          EmailAccountName: i.username,
          EmailAccountType: 'EmailTypeIMAP',
          EmailAddress: i.address!,
          IncomingMailServerAuthentication: 'EmailAuthPassword',
          IncomingMailServerHostName: i.host,
          IncomingMailServerPortNumber: 993,
          IncomingMailServerUseSSL: true,
          IncomingMailServerUsername: i.address!,
          IncomingPassword: i.password,
          OutgoingMailServerAuthentication: 'EmailAuthPassword',
          OutgoingMailServerHostName: i.host,
          OutgoingMailServerPortNumber: 587,
          OutgoingMailServerUseSSL: true,
          OutgoingMailServerUsername: i.address!,
          OutgoingPassword: i.password,
          OutgoingPasswordSameAsIncomingPassword: true,
          PayloadDisplayName: 'Email',
          PayloadIdentifier: `${id}.mail`,
          PayloadType: 'com.apple.mail.managed',
          PayloadUUID: uuidFor(`${id}.mail`),
          PayloadVersion: 1,
        },
        '    ',
      ),
    ],
  },
};

export function renderMobileconfig(raw: MobileconfigInput): string {
  const i = input.parse(raw);
  const profile = PROFILES[i.kind];
  const id = `cell.${i.cellName}.${profile.service}.${i.username}`;
  const ca = i.caPem
    ? `\n    <dict>\n      <key>PayloadContent</key>\n      <data>${i.caPem
        .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
        .replace(/\s+/g, '')}</data>\n${dict(
        {
          PayloadDisplayName: `${i.cellName} certificate authority`,
          PayloadIdentifier: `${id}.ca`,
          PayloadType: 'com.apple.security.root',
          PayloadUUID: uuidFor(`${id}.ca`),
          PayloadVersion: 1,
        },
        '    ',
      )
        .split('\n')
        .slice(1, -1)
        .join('\n')}\n    </dict>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
${profile.payloads(i, id).join('\n')}${ca}
  </array>
  <key>PayloadDisplayName</key>
  <string>${xml(`${i.cellName}: ${profile.title} for ${i.username}`)}</string>
  <key>PayloadIdentifier</key>
  <string>${xml(id)}</string>
  <key>PayloadRemovalDisallowed</key>
  <false/>
  <key>PayloadType</key>
  <string>Configuration</string>
  <key>PayloadUUID</key>
  <string>${uuidFor(id)}</string>
  <key>PayloadVersion</key>
  <integer>1</integer>
</dict>
</plist>
`;
}
