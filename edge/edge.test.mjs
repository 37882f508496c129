// node --test edge/: the CloudFront Functions, run on events in CloudFront's own shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

// (The handlers run in their own realm, like CloudFront's runtime: compare values, not prototypes.)
// Load a function file the way CloudFront runs it: a plain script defining handler(). The template
// carries each file as it is (no Fn::Sub): one function serves every site.
function load(file) {
  const code = readFileSync(new URL(file, import.meta.url), 'utf8');
  const context = vm.createContext({});
  vm.runInContext(code, context, { filename: file });
  return context.handler;
}

function viewerEvent(eventType, uri, response) {
  const event = {
    version: '1.0',
    context: {
      distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType,
      requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==',
    },
    viewer: { ip: '198.51.100.11' },
    request: {
      method: 'GET',
      uri,
      querystring: { ref: { value: 'mail' } },
      headers: { host: { value: 'www.example.com' }, accept: { value: 'text/html' } },
      cookies: { session: { value: 'abc' } },
    },
  };
  if (response) event.response = response;
  return event;
}

// S3's answer for a site's index.html: its object metadata retry-after arrives as x-amz-meta-retry-after.
function originResponse(retryAfter, statusCode = 200) {
  const headers = {
    'content-type': { value: 'text/html; charset=utf-8' },
    'cache-control': { value: 'public, max-age=0, s-maxage=300' },
    etag: { value: '"0123456789abcdef"' },
  };
  if (retryAfter !== undefined) headers['x-amz-meta-retry-after'] = { value: retryAfter };
  headers['x-amz-meta-detour-order'] = { value: '000000000007|2026-11-21T02:14:27.123Z' };
  headers['x-amz-meta-detour-sha256'] = { value: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' };
  return { statusCode, statusDescription: 'OK', headers, cookies: {} };
}

const viewerRequest = load('viewer-request.js');
const viewerResponse = load('viewer-response.js');

for (const uri of ['/', '/index.html', '/checkout/cart', '/favicon.ico', '/status.json/x', '/STATUS.JSON', '/api/v1/orders?id=1']) {
  test(`viewer request: ${uri} is served the page`, () => {
    const request = viewerRequest(viewerEvent('viewer-request', uri));
    assert.equal(request.uri, '/index.html');
    assert.equal(request.querystring.ref.value, 'mail', 'the rest of the request is untouched');
    assert.equal(request.headers.host.value, 'www.example.com');
  });
}

test('viewer request: /status.json is served itself', () => {
  assert.equal(viewerRequest(viewerEvent('viewer-request', '/status.json')).uri, '/status.json');
});

test('viewer response: the page is a 503 with its Retry-After that nobody stores', () => {
  const response = viewerResponse(viewerEvent('viewer-response', '/index.html', originResponse('900')));
  assert.equal(response.statusCode, 503);
  assert.equal(response.statusDescription, 'Service Unavailable');
  assert.equal(response.headers['retry-after'].value, '900', "the site's own value, from its page's metadata");
  assert.equal(response.headers['cache-control'].value, 'no-store');
  assert.equal(response.headers['content-type'].value, 'text/html; charset=utf-8');
  assert.equal(response.headers['x-amz-meta-retry-after'], undefined, 'the metadata header never reaches visitors');
  assert.deepEqual(Object.keys(response.headers).filter((name) => name.startsWith('x-amz-meta-')), [], "nor Detour's other metadata");
});

test('viewer response: two sites, two Retry-Afters from one function', () => {
  const shop = viewerResponse(viewerEvent('viewer-response', '/index.html', originResponse('60')));
  const docs = viewerResponse(viewerEvent('viewer-response', '/index.html', originResponse('3600')));
  assert.deepEqual([shop.headers['retry-after'].value, docs.headers['retry-after'].value], ['60', '3600']);
});

for (const [label, stored] of [['absent', undefined], ['empty', ''], ['not a number', '12; drop'], ['a date', 'Wed, 21 Oct 2026 07:28:00 GMT']]) {
  test(`viewer response: a page whose retry-after metadata is ${label} gets Retry-After 120`, () => {
    const response = viewerResponse(viewerEvent('viewer-response', '/index.html', originResponse(stored)));
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'].value, '120');
    assert.equal(response.headers['x-amz-meta-retry-after'], undefined);
  });
}

test('viewer response: status.json stays 200, without Retry-After or the metadata header, never stored', () => {
  const response = viewerResponse(viewerEvent('viewer-response', '/status.json', originResponse('900')));
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['retry-after'], undefined);
  assert.equal(response.headers['x-amz-meta-retry-after'], undefined);
  assert.equal(response.headers['cache-control'].value, 'no-store');
});
