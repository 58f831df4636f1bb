/* accounts.sso_bounce: post the SSO return form again, now from Tater's own origin, so the
   browser sends the SameSite=Strict session cookie. A static file: the CSP forbids inline
   script. Without JavaScript the page shows a "Continue" button instead. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-sso-bounce]");
  if (!form) { return; }
  /* The prototype's submit(): a re-posted field named "submit" would shadow form.submit. */
  HTMLFormElement.prototype.submit.call(form);
})();
