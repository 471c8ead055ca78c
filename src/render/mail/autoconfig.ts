// Thunderbird's autoconfig document (clientConfig 1.1, the format Thunderbird, K-9/Thunderbird for
// Android and Evolution read at autoconfig.<domain>/mail/config-v1.1.xml and
// <domain>/.well-known/autoconfig/mail/config-v1.1.xml): IMAP over TLS on 993 and submission with
// STARTTLS on 587 at the mail service's name, the full address as the login. The client fills in
// `%EMAILADDRESS%` itself, so nothing of the request (its `emailaddress` query) is ever echoed here.
import { z } from 'zod';
import { domainName } from '../../schema/fields.ts';

const input = z
  .object({
    /** The cell's domain: the addresses' domain. */
    domain: domainName,
    /** `mail.<domain>`: where IMAPS and submission answer. */
    host: domainName,
    /** Shown by the client while it sets the account up. */
    cellName: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
  })
  .strict();

export type MailAutoconfigInput = z.input<typeof input>;

/** Every value is a validated DNS name or cell name: no character XML would read as markup. */
export function renderMailAutoconfig(raw: MailAutoconfigInput): string {
  const i = input.parse(raw);
  const server = (tag: 'incomingServer' | 'outgoingServer', type: string, port: number, socket: string) =>
    `    <${tag} type="${type}">
      <hostname>${i.host}</hostname>
      <port>${port}</port>
      <socketType>${socket}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </${tag}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${i.domain}">
    <domain>${i.domain}</domain>
    <displayName>${i.cellName} (Personal Internet Cell)</displayName>
    <displayShortName>${i.cellName}</displayShortName>
${server('incomingServer', 'imap', 993, 'SSL')}
${server('outgoingServer', 'smtp', 587, 'STARTTLS')}
  </emailProvider>
</clientConfig>
`;
}
