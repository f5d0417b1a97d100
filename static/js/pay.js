// The payment page: Stripe.js turns the card into a PaymentMethod (or, on localstripe's
// stand-in, a token's card), the shop's server attaches it to the order's PaymentIntent
// and confirms it, and a 3-D Secure challenge runs here with confirmCardPayment.
// Card numbers go only to Stripe. One code path for Stripe and localstripe alike.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof window.Stripe !== "function") {
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card");
  var message = document.getElementById("payment-message");
  var button = form.querySelector("button[type=submit]");

  function show(text) {
    message.textContent = text || "";
    message.hidden = !text;
  }

  function fail(text) {
    var error = new Error(text);
    error.forBuyer = true;
    return error;
  }

  async function cardId() {
    // Stripe.js: a PaymentMethod. localstripe's stand-in returns nothing here...
    if (typeof stripe.createPaymentMethod === "function") {
      var created = await stripe.createPaymentMethod({ type: "card", card: card });
      if (created && created.error) throw fail(created.error.message);
      if (created && created.paymentMethod) return created.paymentMethod.id;
    }
    // ...but it tokenises; a token's card id works as the payment method too.
    var result = await stripe.createToken(card);
    if (result.error) throw fail(result.error.message);
    return result.token.card.id;
  }

  async function confirmOnServer(paymentMethodId) {
    var response = await fetch(form.dataset.confirmUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf },
      body: JSON.stringify({ payment_method: paymentMethodId }),
    });
    var data = await response.json().catch(function () {
      return { status: "declined", message: form.dataset.msgUnavailable };
    });
    return data;
  }

  // Optional (data-check-url, a group buy's participant page): after 3-D Secure the page
  // asks the shop to settle the card with Stripe now rather than wait for a webhook.
  // Checkout's page has no such URL and works as before.
  async function checkOnServer() {
    if (!form.dataset.checkUrl) return;
    try {
      await fetch(form.dataset.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.dataset.csrf },
      });
    } catch (error) {
      // the status below still tells how it ended
    }
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  // After 3-D Secure only Stripe's webhook tells the shop the card was charged; until it
  // arrives the order still shows the card form. Wait (up to half a minute) for the
  // order to leave the "pay" stage, so the buyer sees "processing" or "paid", not the
  // form again.
  async function waitUntilNotPayable() {
    for (var tries = 0; tries < 30; tries++) {
      try {
        var response = await fetch(form.dataset.statusUrl, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.ok && (await response.json()).stage !== "pay") return;
      } catch (error) {
        // the next try may get through
      }
      await sleep(1000);
    }
  }

  async function pay() {
    var data = await confirmOnServer(await cardId());
    if (data.status === "requires_action") {
      var result = await stripe.confirmCardPayment(data.client_secret);
      if (result.error) throw fail(result.error.message);
      var status = result.paymentIntent && result.paymentIntent.status;
      if (status !== "succeeded" && status !== "processing" && status !== "requires_capture") {
        throw fail(form.dataset.msgAuthFailed);
      }
      await checkOnServer();
      await waitUntilNotPayable();
    } else if (data.status === "declined") {
      throw fail(data.message || form.dataset.msgDeclined);
    }
    window.location.assign(data.next || window.location.href);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    show("");
    button.setAttribute("aria-busy", "true");
    pay().catch(function (error) {
      show(error.forBuyer ? error.message : form.dataset.msgUnavailable);
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  });
})();
