// Detour maintenance page, viewer response (cloudfront-js-2.0).
// The page is an error page for the primary's domain: 503 with Retry-After, so crawlers and clients
// know the outage is temporary, and never stored by browsers or proxies. status.json keeps its 200.
// Every site's distribution runs this one function: each site's Retry-After comes with its page, as the
// S3 object metadata retry-after on index.html (header x-amz-meta-retry-after). The object metadata
// (x-amz-meta-*: Retry-After, the page's order and digest) is Detour's own and is not passed on.
var RETRY_AFTER_HEADER = 'x-amz-meta-retry-after';
var DEFAULT_RETRY_AFTER = '120';

function handler(event) {
  var response = event.response;
  var stored = response.headers[RETRY_AFTER_HEADER];
  for (var name in response.headers) {
    if (name.indexOf('x-amz-meta-') === 0) {
      delete response.headers[name];
    }
  }
  response.headers['cache-control'] = { value: 'no-store' };
  if (event.request.uri !== '/status.json') {
    response.statusCode = 503;
    response.statusDescription = 'Service Unavailable';
    var seconds = stored && /^[0-9]{1,6}$/.test(stored.value) ? stored.value : DEFAULT_RETRY_AFTER;
    response.headers['retry-after'] = { value: seconds };
  }
  return response;
}
