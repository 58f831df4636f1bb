/* Tater UI behaviour. Loaded as a static file: the CSP forbids inline script.
   Every feature here is an enhancement; the pages work without JavaScript. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  /* A form sent back with errors: focus its summary (tabindex="-1"), so keyboard and screen
     reader users start at what went wrong and Tab on to the fields it links to. An input the
     page autofocuses (the 2FA code) keeps the focus. */
  var summary = document.getElementById("form-errors");
  if (summary && (!document.activeElement || document.activeElement === document.body)) {
    summary.focus();
  }

  /* Copy buttons: <button data-copy="#element-id">, status in [data-copy-status]. */
  function announce(button, text) {
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (!status) { status = button.parentElement.querySelector(".copy-status"); }
    if (status) { status.textContent = text; }
  }

  function selectContents(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          announce(button, "Copied to clipboard");
          button.setAttribute("data-copied", "true");
        }, function () {
          selectContents(target);
          announce(button, "Copy failed: the text is selected, press Ctrl+C");
        });
      } else {
        selectContents(target);
        announce(button, "Selected: press Ctrl+C (or ⌘C) to copy");
      }
    });
  });

  /* Key form: per-resource permissions only matter for the "Limited" preset. */
  var limited = document.querySelector("#limited-permissions.js-limited");
  if (limited) {
    var presets = document.querySelectorAll("input[name='preset']");
    var sync = function () {
      var chosen = document.querySelector("input[name='preset']:checked");
      limited.hidden = !(chosen && chosen.value === "limited");
    };
    presets.forEach(function (input) { input.addEventListener("change", sync); });
    sync();
  }

  /* Key list: a "select all" checkbox for the bulk actions (without JS, tick each row). */
  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    var boxes = document.querySelectorAll(all.getAttribute("data-select-all"));
    all.hidden = false;
    if (all.parentElement) { all.parentElement.hidden = false; }
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });

  /* Snippet tabs (without JS all snippets are shown one after another). */
  document.querySelectorAll("[data-tabs]").forEach(function (container) {
    var tabs = Array.prototype.slice.call(container.querySelectorAll("[role='tab']"));
    var list = container.querySelector("[role='tablist']");
    if (!tabs.length || !list) { return; }
    list.hidden = false;
    function activate(tab, focus) {
      tabs.forEach(function (other) {
        var selected = other === tab;
        other.setAttribute("aria-selected", selected ? "true" : "false");
        other.tabIndex = selected ? 0 : -1;
        document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
      });
      if (focus) { tab.focus(); }
    }
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { activate(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") { next = tabs[(index + 1) % tabs.length]; }
        if (event.key === "ArrowLeft") { next = tabs[(index - 1 + tabs.length) % tabs.length]; }
        if (event.key === "Home") { next = tabs[0]; }
        if (event.key === "End") { next = tabs[tabs.length - 1]; }
        if (next) { event.preventDefault(); activate(next, true); }
      });
    });
    activate(tabs[0], false);
  });

  /* Close the user and organization menus with Escape and when clicks leave them. */
  document.querySelectorAll("details.user-menu, details.org-menu").forEach(function (menu) {
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  });
})();
