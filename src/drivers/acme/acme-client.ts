// The AcmePort on acme-client (RFC 8555, maintained, used by many Node ACME tools): accounts, orders,
// JWS signing, nonces, retries and polling are its; which challenge, in what order and how it is
// published are the core's. Authorizations are proved one at a time (see the port). Nothing here
// reads a proxy from the environment (axios would), and errors carry the CA's problem detail only.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import acme from 'acme-client';
import type { AcmeCertificate, AcmeChallenge, AcmeOrder, AcmePort } from '../../core/ports/acme.ts';

export interface AcmeClientOptions {
  /** Extra roots to trust for the directory's own HTTPS (tests: Pebble's listener); default: the system's. */
  caPem?: string;
  /** Polling of a challenge or an order: first wait, longest wait, and how many tries. */
  backoff?: { minMs: number; maxMs: number; attempts: number };
}

const WANT = { 'dns-01': 'dns-01', 'http-01': 'http-01' } as const;

export function acmeClient(opts: AcmeClientOptions = {}): AcmePort {
  // acme-client shares one axios instance: set what this process needs of it once.
  acme.axios.defaults.proxy = false;
  acme.axios.defaults.timeout = 30_000;
  const baseAgent = opts.caPem ? new Agent({ ca: opts.caPem, keepAlive: false }) : undefined;
  const backoff = opts.backoff ?? { minMs: 2_000, maxMs: 15_000, attempts: 12 };
  return {
    async newAccountKey() {
      return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    },
    async order(o: AcmeOrder): Promise<AcmeCertificate> {
      // Orders run one at a time (the TLS use-case's rule): the shared instance's agent is this order's.
      // The owner's extra roots come beside the system's (Node's `ca` replaces them otherwise).
      acme.axios.defaults.httpsAgent = o.directoryCaPem
        ? new Agent({
            ca: [...rootCertificates, ...(opts.caPem ? [opts.caPem] : []), o.directoryCaPem],
            keepAlive: false,
          })
        : baseAgent;
      const client = new acme.Client({
        directoryUrl: o.directoryUrl,
        accountKey: o.accountKeyPem,
        backoffMin: backoff.minMs,
        backoffMax: backoff.maxMs,
        backoffAttempts: backoff.attempts,
        ...(o.eab ? { externalAccountBinding: { kid: o.eab.kid, hmacKey: o.eab.hmacKey } } : {}),
      });
      o.progress('registering the account');
      // An existing account is looked up (POST-as-GET): re-sending only termsOfServiceAgreed is an
      // empty update, which a CA refuses ("Use POST-as-GET"): every renewal without an email failed.
      const contact = o.email ? { contact: [`mailto:${o.email}`] } : undefined;
      const exists = await client.createAccount({ onlyReturnExisting: true }).then(
        () => true,
        () => false, // accountDoesNotExist, or the CA unreachable: the next call says which
      );
      if (!exists) await client.createAccount({ termsOfServiceAgreed: true, ...contact });
      else if (contact) await client.updateAccount(contact);
      o.progress('ordering');
      const order = await client.createOrder({
        identifiers: o.names.map((value) => ({ type: 'dns', value })),
      });
      const authorizations = await client.getAuthorizations(order);
      for (const authz of authorizations) {
        if (authz.status === 'valid') continue; // proved recently, reused by the CA
        const challenge = authz.challenges.find((c) => c.type === WANT[o.challenge]);
        if (!challenge)
          throw new Error(`the CA offers no ${o.challenge} challenge for ${authz.identifier.value}`);
        const ch: AcmeChallenge = {
          type: o.challenge,
          domain: authz.identifier.value,
          wildcard: authz.wildcard === true,
          token: challenge.token,
          value: await client.getChallengeKeyAuthorization(challenge),
        };
        const label = `${ch.wildcard ? '*.' : ''}${ch.domain}`;
        o.progress(`publishing the ${o.challenge} proof for ${label}`);
        await o.present(ch);
        try {
          o.progress(`waiting for the CA to validate ${label}`);
          await client.completeChallenge(challenge);
          await client.waitForValidStatus(challenge);
        } finally {
          await o.cleanup(ch).catch(() => {});
        }
      }
      o.progress('finalizing');
      const [keyPem, csr] = await acme.crypto.createCsr(
        { commonName: o.names[0]!, altNames: o.names },
        await acme.crypto.createPrivateEcdsaKey('P-256'),
      );
      const finalized = await client.finalizeOrder(order, csr);
      const pem = await client.getCertificate(finalized);
      const [leaf, ...chain] = acme.crypto.splitPemChain(pem);
      if (!leaf) throw new Error('the CA sent no certificate');
      return {
        certPem: ensureNl(leaf),
        chainPem: chain.map(ensureNl).join(''),
        keyPem: ensureNl(keyPem.toString()),
      };
    },
  };
}

const ensureNl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
