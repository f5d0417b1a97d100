// Share links on the reseller's page: each is a read-only field anyone can select and copy
// by hand; with JavaScript a Copy button appears beside it, and a click in the field
// selects the whole link.
(function () {
  "use strict";
  function select(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
  }
  document.querySelectorAll("input.share-field__url").forEach(function (field) {
    field.addEventListener("focus", function () { select(field); });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var copied = function () {
        button.textContent = button.dataset.copiedLabel;
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(copied, function () { select(field); });
      } else {
        select(field);
        try {
          if (document.execCommand("copy")) {
            copied();
          }
        } catch (error) {
          // The link stays selected: the visitor copies it by hand.
        }
      }
    });
  });
})();
