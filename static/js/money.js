// Minor units to the page's money format ({prefix, suffix, group, decimal, exponent}, as
// shop.money describes it), for the scripts that show amounts as the buyer types or as
// a group buy fills: static/js/size_grid.js and static/js/campaign.js.
(function () {
  "use strict";

  function groupDigits(digits, separator) {
    var out = "";
    while (digits.length > 3) {
      out = separator + digits.slice(-3) + out;
      digits = digits.slice(0, -3);
    }
    return digits + out;
  }

  window.sourcefrontMoney = function (format) {
    return function (amount) {
      var digits = String(amount);
      var places = format.exponent;
      while (digits.length <= places) {
        digits = "0" + digits;
      }
      var whole = places ? digits.slice(0, -places) : digits;
      var fraction = places ? format.decimal + digits.slice(-places) : "";
      return format.prefix + groupDigits(whole, format.group) + fraction + format.suffix;
    };
  };
})();
