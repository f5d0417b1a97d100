// The listing's filter and sort forms apply a change at once: choosing a size, a colour
// or a sort submits the form (a price when its field is left or Enter is pressed). Empty
// fields are left out of the address, so a bookmarked listing reads as what it shows.
// Without this script the forms' buttons do the same.
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (field.value === "") {
          field.disabled = true;
        }
      });
    });
    form.addEventListener("change", function () {
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
  });
  // From 900 px the filters stand beside the results: open their fold (phones keep it
  // closed, so the results come first).
  if (window.matchMedia && window.matchMedia("(min-width: 900px)").matches) {
    document.querySelectorAll("details.filter-form__fold").forEach(function (fold) {
      fold.open = true;
    });
  }
  // Coming back to the page (the browser's back button) shows the fields usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-autosubmit] [disabled]").forEach(function (field) {
      field.disabled = false;
    });
  });
})();
