// The product page's size grid adds up as quantities are typed: pieces in total, the
// tier they reach (price per piece), the total, and how many more reach the next cheaper
// tier. The server sends everything it needs in data-grid (shop/catalog/size_grid.py):
// tiers with their prices already formatted, and the money format the server uses, so
// the same amount reads the same here. Amounts are integers in minor units: a unit
// price times pieces, nothing to round. Without this script the grid works as before:
// the cart prices what is added.
(function () {
  "use strict";
  var grid = document.querySelector("[data-grid]");
  var summary = document.querySelector("[data-testid=grid-summary]");
  if (!grid || !summary) {
    return;
  }
  var data = JSON.parse(grid.getAttribute("data-grid"));
  var tiers = data.tiers; // ascending by min
  var format = data.format;
  var money = window.sourcefrontMoney(format);

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  // shop.catalog.pricing.tier_for: the highest minimum not above the quantity; below
  // the first minimum, the first tier.
  function tierFor(quantity) {
    var chosen = tiers.length ? tiers[0] : null;
    tiers.forEach(function (tier) {
      if (tier.min <= quantity) {
        chosen = tier;
      }
    });
    return chosen;
  }

  // shop.catalog.pricing.next_tier: the first tier above the quantity that costs less
  // than what the quantity pays now.
  function nextTier(quantity, paying) {
    for (var i = 0; i < tiers.length; i += 1) {
      if (tiers[i].min > quantity && paying && tiers[i].unit < paying.unit) {
        return tiers[i];
      }
    }
    return null;
  }

  function pieces() {
    var total = 0;
    grid.querySelectorAll("input.qty").forEach(function (input) {
      var value = parseInt(input.value, 10);
      if (!input.disabled && value > 0 && String(value) === input.value.trim()) {
        total += value;
      }
    });
    return total;
  }

  var out = {};
  ["pieces", "unit", "total", "next", "rule"].forEach(function (name) {
    out[name] = summary.querySelector("[data-testid=grid-" + name + "]");
  });

  function show(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  function update() {
    var quantity = pieces();
    var paying = tierFor(quantity);
    var next = nextTier(quantity, paying);
    out.pieces.textContent = String(quantity);
    out.pieces.setAttribute("data-pieces", String(quantity));
    out.unit.textContent = paying ? paying.label : "—";
    out.unit.setAttribute("data-amount", paying ? String(paying.unit) : "");
    out.total.textContent = paying ? money(paying.unit * quantity) : "—";
    out.total.setAttribute("data-amount", paying ? String(paying.unit * quantity) : "");
    show(
      out.next,
      next ? fill(data.texts.next, { more: next.min - quantity, amount: next.label }) : ""
    );
    var rule = "";
    if (quantity > 0 && quantity < data.moq) {
      rule = fill(data.texts.minimum, { more: data.moq - quantity, n: data.moq });
    } else if (quantity > 0 && quantity % data.increment) {
      rule = fill(data.texts.increment, {
        more: data.increment - (quantity % data.increment),
        n: data.increment,
      });
    }
    show(out.rule, rule);
  }

  grid.addEventListener("input", update);
  summary.hidden = false;
  update();
})();
