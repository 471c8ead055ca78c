import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SECURITY_HEADERS } from '../schema/security-headers.ts';
import {
  allowedBeforeSetup,
  clearSessionCookies,
  csrfExempt,
  hostAllowed,
  hostName,
  normalizePath,
  originAllowed,
  readCookie,
  sessionCookie,
  touchesApi,
} from './http-policy.ts';

describe('normalizePath', () => {
  // Every way of spelling /api/peers that some layer (router, proxy, browser) could read as /api/peers.
  const tricky: Array<[string, string]> = [
    ['/api/peers', '/api/peers'],
    ['/api/./peers', '/api/peers'],
    ['/api/%2e/peers', '/api/peers'],
    ['/api/setup/../peers', '/api/peers'],
    ['/api/setup/%2e%2e/peers', '/api/peers'],
    ['/api/setup/%2E%2E/peers', '/api/peers'],
    ['/api/setup/%252e%252e/peers', '/api/peers'],
    ['/api/setup/%25252e%25252e/peers', '/api/peers'],
    ['/api/setup/..%2fpeers', '/api/peers'],
    ['//api/peers', '/api/peers'],
    ['///api//peers/', '/api/peers'],
    ['/API/peers', '/api/peers'],
    ['/Api/Peers', '/api/peers'],
    ['/api;x/peers', '/api/peers'],
    ['/api/peers;jsessionid=1', '/api/peers'],
    ['/api\\peers', '/api/peers'],
    ['\\api\\peers', '/api/peers'],
    ['/api/%5cpeers', '/api/peers'],
    ['/%61pi/peers', '/api/peers'],
    ['/api/peers?x=/../setup/status', '/api/peers'],
    ['/x/../api/peers', '/api/peers'],
  ];
  for (const [raw, want] of tricky) {
    test(`${raw} → ${want}`, () => assert.equal(normalizePath(raw), want));
  }

  test('dot segments above the root stay at the root', () => {
    assert.equal(normalizePath('/../../api/peers'), '/api/peers');
    assert.equal(normalizePath('/api/../../etc/passwd'), '/etc/passwd');
  });

  test('malformed percent escapes do not throw', () => {
    assert.equal(normalizePath('/api/%zz/peers'), '/api/zz/peers');
    assert.equal(normalizePath('/api/%'), '/api');
  });

  test('the root and the empty path', () => {
    assert.equal(normalizePath('/'), '/');
    assert.equal(normalizePath(''), '/');
  });
});

describe('touchesApi', () => {
  test('anything that reads as /api under some decoding', () => {
    for (const p of [
      '/api',
      '/api/peers',
      '/api/%2e%2e/peers', // a WHATWG URL parser resolves this to /peers; a proxy may not
      '/api/%252e%252e/peers',
      '/API/x',
      '//api',
      '/api;x/peers',
      '/%61pi/x',
      '/x/../api/peers',
    ]) {
      assert.equal(touchesApi(p), true, p);
    }
  });
  test('the UI and /health do not', () => {
    for (const p of ['/', '/setup', '/assets/index-AbC.js', '/health', '/apiary', '/x/api']) {
      assert.equal(touchesApi(p), false, p);
    }
  });
});

describe('allowedBeforeSetup and csrfExempt', () => {
  test('only /health and /api/setup/* before setup', () => {
    assert.equal(allowedBeforeSetup('/health'), true);
    assert.equal(allowedBeforeSetup('/api/setup/status'), true);
    assert.equal(allowedBeforeSetup('/api/setup/complete'), true);
    assert.equal(allowedBeforeSetup('/api/setup'), false);
    assert.equal(allowedBeforeSetup('/api/setupx/y'), false);
    assert.equal(allowedBeforeSetup('/api/peers'), false);
    assert.equal(allowedBeforeSetup('/api/health'), false);
  });
  test('CSRF exemption covers auth/* and setup/* only', () => {
    assert.equal(csrfExempt('/api/auth/login'), true);
    assert.equal(csrfExempt('/api/setup/complete'), true);
    assert.equal(csrfExempt('/api/config'), false);
    assert.equal(csrfExempt('/api/authx'), false);
    assert.equal(csrfExempt('/api/auth/password'), false);
    assert.equal(csrfExempt('/api/auth/totp/enable'), false);
  });
});

describe('hostAllowed (DNS rebinding)', () => {
  const domain = 'home.cell';
  test('IPs, localhost, the cell domain and its subdomains', () => {
    for (const h of [
      '127.0.0.1',
      '127.0.0.1:3000',
      '192.168.1.20:8081',
      '[::1]:3000',
      '[fe80::1]',
      'localhost',
      'localhost:8081',
      'LOCALHOST',
      'home.cell',
      'home.cell:443',
      'calendar.home.cell',
    ]) {
      assert.equal(hostAllowed(h, domain), true, h);
    }
  });
  test('foreign names, look-alikes and garbage are refused', () => {
    for (const h of [
      undefined,
      '',
      'evil.com',
      'evil.com:3000',
      'home.cell.evil.com',
      'xhome.cell',
      'localhost.evil.com',
      'a'.repeat(300),
      '[::1',
    ]) {
      assert.equal(hostAllowed(h, domain), false, String(h));
    }
  });
  test('extra names are allowed on purpose only', () => {
    assert.equal(hostAllowed('pic.lan', domain, ['pic.lan']), true);
    assert.equal(hostAllowed('pic.lan', domain), false);
  });
  test('hostName strips ports and brackets', () => {
    assert.equal(hostName('Example.ORG:80'), 'example.org');
    assert.equal(hostName('[::1]:80'), '::1');
    assert.equal(hostName('::1'), '::1');
  });
});

describe('originAllowed', () => {
  test('no Origin header (same-origin GET, curl) is allowed', () => {
    assert.equal(originAllowed(undefined, 'home.cell'), true);
  });
  test('same origin allowed, scheme http or https', () => {
    assert.equal(originAllowed('http://127.0.0.1:3000', '127.0.0.1:3000'), true);
    assert.equal(originAllowed('https://home.cell', 'home.cell'), true);
    assert.equal(originAllowed('https://HOME.cell', 'home.cell'), true);
    assert.equal(originAllowed('http://localhost', 'localhost:80'), true, 'default port');
    assert.equal(originAllowed('https://home.cell', 'home.cell:443'), true, 'default port');
  });
  test('null, foreign, other port, other scheme and garbage are refused', () => {
    assert.equal(originAllowed('null', 'home.cell'), false);
    assert.equal(originAllowed('https://evil.com', 'home.cell'), false);
    assert.equal(originAllowed('https://home.cell.evil.com', 'home.cell'), false);
    assert.equal(originAllowed('http://127.0.0.1:3001', '127.0.0.1:3000'), false);
    assert.equal(originAllowed('file://home.cell', 'home.cell'), false);
    assert.equal(originAllowed('not a url', 'home.cell'), false);
    assert.equal(originAllowed('https://home.cell', undefined), false);
    assert.equal(originAllowed('https://home.cell', 'home.cell/x'), false);
    assert.equal(originAllowed('https://home.cell', 'user@home.cell'), false);
    assert.equal(originAllowed('https://home.cell', 'home.cell:8443'), false);
  });
});

describe('cookies', () => {
  test('readCookie finds the named cookie only', () => {
    const header = 'a=1; pic_session=abc; __Host-pic_session=def; b=';
    assert.equal(readCookie(header, 'pic_session'), 'abc');
    assert.equal(readCookie(header, '__Host-pic_session'), 'def');
    assert.equal(readCookie(header, 'b'), '');
    assert.equal(readCookie(header, 'missing'), undefined);
    assert.equal(readCookie(undefined, 'a'), undefined);
    assert.equal(readCookie('xpic_session=1', 'pic_session'), undefined);
  });
  test('session cookie attributes over HTTP', () => {
    const c = sessionCookie('ID', false, 60);
    assert.match(c, /^pic_session=ID; /);
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; SameSite=Strict/);
    assert.match(c, /; Path=\//);
    assert.doesNotMatch(c, /Secure/);
    assert.doesNotMatch(c, /Domain=/);
  });
  test('session cookie over HTTPS: __Host- prefix and Secure', () => {
    const c = sessionCookie('ID', true, 60);
    assert.match(c, /^__Host-pic_session=ID; /);
    assert.match(c, /; Secure/);
    assert.match(c, /; Path=\//);
    assert.doesNotMatch(c, /Domain=/);
  });
  test('clearing expires both names', () => {
    const cs = clearSessionCookies();
    assert.equal(cs.length, 2);
    for (const c of cs) assert.match(c, /Max-Age=0/);
  });
});

test('security headers: CSP forbids framing, nosniff, no referrer', () => {
  assert.match(SECURITY_HEADERS['content-security-policy']!, /frame-ancestors 'none'/);
  assert.match(SECURITY_HEADERS['content-security-policy']!, /default-src 'self'/);
  assert.equal(SECURITY_HEADERS['x-content-type-options'], 'nosniff');
  assert.equal(SECURITY_HEADERS['referrer-policy'], 'no-referrer');
});
