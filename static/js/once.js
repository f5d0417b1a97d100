// Forms marked data-once (placing an order, cancelling with a refund, confirming a roster
// order) say that they are working and cannot be pressed twice. The server's one-time
// keys make a second press harmless anyway; this only spares the buyer the doubt. A button
// with data-busy-label shows that text while the form is sent ("Placing order…").
(function () {
  "use strict";
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        // Disable after this tick, so the pressed button's own submission goes through.
        setTimeout(function () {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
          if (button.dataset.busyLabel) {
            button.textContent = button.dataset.busyLabel;
          }
        }, 0);
      });
    });
  });
})();
