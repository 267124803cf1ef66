// The catalogue is where a visitor lands from a shared link. On a phone the app takes a second or more to
// download and start; this small script (not part of the bundle, so it runs as soon as it arrives) asks
// for the first page of classes meanwhile, and the catalogue screen takes that answer (member/early.ts).
(function () {
  var early = { "/courses": "/v1/courses?limit=20&offset=0" }[location.pathname];
  if (early && window.fetch) {
    window.palaceEarly = { page: location.pathname, answer: fetch(early, { headers: { Accept: "application/json" } }) };
  }
})();
