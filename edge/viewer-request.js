// Detour maintenance page, viewer request (cloudfront-js-2.0).
// Every path is the maintenance page, except the status it polls: so a visitor's deep link, an API
// call or a favicon request all get the page (and its 503), never an S3 error.
function handler(event) {
  var request = event.request;
  if (request.uri !== '/status.json') {
    request.uri = '/index.html';
  }
  return request;
}
