// Settings → Reminders: subscribe this browser to Web Push, send a test, unsubscribe.
// The page works without it (times and the calendar address are plain forms).
(function () {
  "use strict";

  var section = document.querySelector("[data-push]");
  if (!section) return;
  var status = section.querySelector("[data-push-status]");
  var subscribeButton = section.querySelector("[data-push-subscribe]");
  var testButton = section.querySelector("[data-push-test]");
  var unsubscribeButton = section.querySelector("[data-push-unsubscribe]");
  var csrf = document.body.getAttribute("data-csrf") || "";

  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? "{}" : JSON.stringify(body),
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function show(subscribed) {
    subscribeButton.hidden = subscribed;
    testButton.hidden = !subscribed;
    unsubscribeButton.hidden = !subscribed;
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("This browser cannot show notifications from a web page. On iPhone or iPad, add the diary to the Home Screen first (iOS 16.4 or later) and open it from there; or use the calendar address below.");
    return;
  }

  navigator.serviceWorker.ready.then(function (registration) {
    return registration.pushManager.getSubscription();
  }).then(function (subscription) {
    show(Boolean(subscription));
  });

  subscribeButton.addEventListener("click", function () {
    say("Asking this browser…");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error("Notifications are blocked for this site. Allow them in the browser's site settings, then try again.");
      }
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(section.getAttribute("data-vapid-key")),
      });
    }).then(function (subscription) {
      return post("/settings/reminders/subscription", subscription.toJSON());
    }).then(function (response) {
      if (!response.ok) throw new Error("The server could not keep this subscription. Try again later.");
      show(true);
      say("Notifications are on for this device. Set the times above.");
    }).catch(function (error) {
      say(error.message || "Notifications could not be turned on.");
    });
  });

  testButton.addEventListener("click", function () {
    say("Sending…");
    post("/settings/reminders/test").then(function (response) {
      return response.json();
    }).then(function (result) {
      say(result.sent ? "Sent. It should appear in a moment." : "Nothing could be delivered. Turn notifications off and on again here.");
    }).catch(function () {
      say("The test could not be sent. Check the connection and try again.");
    });
  });

  unsubscribeButton.addEventListener("click", function () {
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return null;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return post("/settings/reminders/subscription/delete", { endpoint: endpoint });
      });
    }).then(function () {
      show(false);
      say("Notifications are off for this device.");
    }).catch(function () {
      say("Notifications could not be turned off. Try again.");
    });
  });
})();
