// A group buy's page keeps its numbers fresh: every few seconds it reads
// /g/<code>/progress.json (cached by the server, never older than one refresh) and writes
// the pieces, the price each product reached, how many more reach the next tier, the
// minimum, the places and the time left into the page (an aria-live region, polite).
// The sentences and the money format come from the page (data-texts, data-format), so the
// browser prints what the server prints. When the campaign stops taking joins the page
// reloads to show why. Without this script the page is the same, as of its loading.
(function () {
  "use strict";
  var box = document.querySelector("[data-testid=campaign-progress]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var every = parseInt(box.getAttribute("data-refresh-ms"), 10) || 5000;
  var texts = JSON.parse(box.getAttribute("data-texts"));
  var format = JSON.parse(box.getAttribute("data-format"));
  var state = box.getAttribute("data-state");
  var version = box.getAttribute("data-version");

  function fill(text, values) {
    return text.replace(/%\((\w+)\)[ds]/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }
  var money = window.sourcefrontMoney(format);

  function one(selector) {
    return box.querySelector(selector);
  }

  function timeLeft(closesAt) {
    var minutes = Math.max(Math.floor((Date.parse(closesAt) - Date.now()) / 60000), 0);
    return fill(texts.left, {
      days: Math.floor(minutes / 1440),
      hours: Math.floor(minutes / 60) % 24,
      minutes: minutes % 60,
    });
  }

  function show(data) {
    var pieces = one("[data-testid=campaign-pieces]");
    pieces.textContent = String(data.pieces);
    pieces.setAttribute("data-pieces", String(data.pieces));
    var people = one("[data-testid=campaign-participants]");
    people.textContent = fill(texts.participants, { n: data.participants });
    people.setAttribute("data-participants", String(data.participants));
    var minimum = one("[data-testid=campaign-minimum]");
    var reached = data.pieces >= data.min_pieces;
    minimum.setAttribute("data-reached", reached ? "true" : "false");
    minimum.textContent = reached
      ? fill(texts.minimum_reached, { min: data.min_pieces })
      : fill(texts.minimum_left, { n: data.min_pieces - data.pieces, min: data.min_pieces });
    var places = one("[data-testid=campaign-places]");
    places.setAttribute("data-places", data.places_left === null ? "" : String(data.places_left));
    places.textContent =
      data.places_left === null ? texts.no_limit : fill(texts.places, { n: data.places_left });
    data.products.forEach(function (product) {
      var price = one("[data-testid=campaign-price][data-product='" + product.id + "']");
      if (price && product.unit_amount !== null) {
        price.setAttribute("data-amount", String(product.unit_amount));
        price.textContent = money(product.unit_amount);
      }
      var count = one("[data-testid=campaign-product-pieces][data-product='" + product.id + "']");
      if (count) {
        count.setAttribute("data-pieces", String(product.pieces));
        count.textContent = fill(texts.product_pieces, { n: product.pieces });
      }
      var next = one("[data-testid=campaign-next-tier][data-product='" + product.id + "']");
      if (next) {
        var step = product.next_tier;
        next.setAttribute("data-needed", step ? String(step.pieces_needed) : "");
        next.textContent = step
          ? fill(texts.next, { n: step.pieces_needed, amount: money(step.unit_amount) })
          : texts.top;
      }
    });
    box.setAttribute("data-version", String(data.version));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) {
          return;
        }
        if (data.state !== state) {
          window.location.reload(); // the form gives way to why it takes no one (or back)
          return;
        }
        var left = one("[data-testid=campaign-time-left] [data-part=left]");
        if (left) {
          left.textContent = timeLeft(data.closes_at);
        }
        if (String(data.version) !== version) {
          version = String(data.version);
          show(data);
        }
      })
      .catch(function () {
        // the next poll may get through
      })
      .then(function () {
        setTimeout(poll, every);
      });
  }

  setTimeout(poll, every);
})();
