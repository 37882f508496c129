// Detour maintenance page, viewer response (cloudfront-js-2.0).
// The page is an error page for the primary's domain: 503 with Retry-After, so crawlers and clients
// know the outage is temporary, and never stored by browsers or proxies. status.json keeps its 200.
// CloudFormation fills in RetryAfterSeconds (the template's Fn::Sub on this exact file).
var RETRY_AFTER_SECONDS = '${RetryAfterSeconds}';

function handler(event) {
  var response = event.response;
  response.headers['cache-control'] = { value: 'no-store' };
  if (event.request.uri !== '/status.json') {
    response.statusCode = 503;
    response.statusDescription = 'Service Unavailable';
    response.headers['retry-after'] = { value: RETRY_AFTER_SECONDS };
  }
  return response;
}
