// node --test edge/: the CloudFront Functions, run on events in CloudFront's own shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

// (The handlers run in their own realm, like CloudFront's runtime: compare values, not prototypes.)
// Load a function file the way CloudFront runs it: a plain script defining handler(), with the
// template's ${Parameter} placeholders substituted as Fn::Sub does.
function load(file, parameters = {}) {
  let code = readFileSync(new URL(file, import.meta.url), 'utf8');
  for (const [name, value] of Object.entries(parameters)) {
    code = code.replaceAll('${' + name + '}', value);
  }
  assert.doesNotMatch(code, /\$\{[A-Za-z]+\}/, 'every template placeholder is substituted');
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

function originResponse(statusCode = 200) {
  return {
    statusCode,
    statusDescription: 'OK',
    headers: {
      'content-type': { value: 'text/html; charset=utf-8' },
      'cache-control': { value: 'public, max-age=0, s-maxage=300' },
      etag: { value: '"0123456789abcdef"' },
    },
    cookies: {},
  };
}

const viewerRequest = load('viewer-request.js');
const viewerResponse = load('viewer-response.js', { RetryAfterSeconds: '120' });

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

test('viewer response: the page is a 503 with Retry-After that nobody stores', () => {
  const response = viewerResponse(viewerEvent('viewer-response', '/index.html', originResponse()));
  assert.equal(response.statusCode, 503);
  assert.equal(response.statusDescription, 'Service Unavailable');
  assert.equal(response.headers['retry-after'].value, '120');
  assert.equal(response.headers['cache-control'].value, 'no-store');
  assert.equal(response.headers['content-type'].value, 'text/html; charset=utf-8');
});

test('viewer response: Retry-After is the stack parameter', () => {
  const custom = load('viewer-response.js', { RetryAfterSeconds: '900' });
  const response = custom(viewerEvent('viewer-response', '/index.html', originResponse()));
  assert.equal(response.headers['retry-after'].value, '900');
});

test('viewer response: status.json stays 200, without Retry-After, never stored', () => {
  const response = viewerResponse(viewerEvent('viewer-response', '/status.json', originResponse()));
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['retry-after'], undefined);
  assert.equal(response.headers['cache-control'].value, 'no-store');
});
