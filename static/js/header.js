// The site header's small enhancements (templates/base.html). Without this file the
// header still works: the menu is a <details> and the preferences form has its button.
//  - the menu toggle's aria-expanded follows the <details>; Escape closes the menu and
//    returns focus to the toggle;
//  - language and currency apply as soon as one is chosen: the "Apply" button is hidden
//    and the form is sent on change.
(function () {
  "use strict";
  var menu = document.querySelector(".site-menu");
  if (menu) {
    var toggle = menu.querySelector("summary");
    var sync = function () {
      toggle.setAttribute("aria-expanded", menu.open ? "true" : "false");
    };
    menu.addEventListener("toggle", sync);
    sync();
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        toggle.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    });
  }

  var preferences = document.querySelector("form.preferences");
  if (preferences) {
    var apply = preferences.querySelector("button[type=submit]");
    if (apply) {
      apply.hidden = true;
    }
    preferences.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () {
        preferences.setAttribute("aria-busy", "true");
        preferences.submit();
      });
    });
  }
})();
