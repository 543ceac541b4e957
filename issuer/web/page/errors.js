// The page's uncaught errors, from the first script on: kept in
// `sealpassPageErrors` (read by the end-to-end test in every engine) and
// shown as one line that asks to reload, because a half-working page must
// not pass for a pass. Deferred, before the module: it runs first of the
// page's scripts without holding up the page's parsing.
'use strict';
(() => {
  const errors = [];
  globalThis.sealpassPageErrors = errors;
  const show = () => {
    const note = document.getElementById('page-error');
    if (note) note.hidden = false;
  };
  const keep = (text) => {
    errors.push(text);
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', show, { once: true });
    else show();
  };
  addEventListener('error', (event) => keep(String(event.message)));
  addEventListener('unhandledrejection', (event) => keep(String(event.reason)));
})();
