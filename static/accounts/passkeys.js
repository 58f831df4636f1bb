/* Passkeys: the glue around django-otp-webauthn's scripts, which do the WebAuthn work
   (static files all: the CSP forbids inline script). Loaded before them. */
(function () {
  "use strict";
  // Those scripts call a global gettext() (Django's JavaScript catalog); the UI is English.
  if (typeof window.gettext !== "function") {
    window.gettext = function (text) { return text; };
  }
  // A passkey was added: show it in the list (and the page's confirmation message).
  document.addEventListener("otp_webauthn.register_complete", function () {
    window.location.reload();
  });
})();
