// LDN Diary: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // A slider counts as answered only once the patient moves it (SPEC §2): the "Not answered"
  // box is the truth, and the readout and what a screen reader hears follow it.
  document.documentElement.classList.add("js");

  function describe(scale) {
    var range = scale.querySelector("input[type=range]");
    var box = scale.querySelector("[data-unanswered]");
    if (!range || !box) return;
    var output = scale.querySelector("output");
    if (output) output.textContent = box.checked ? "not answered" : range.value;
    range.setAttribute("aria-valuetext", box.checked ? "not answered" : range.value + " out of 100");
  }

  function markAnswered(range) {
    var scale = range.closest("[data-scale]");
    if (!scale) return;
    var box = scale.querySelector("[data-unanswered]");
    if (box) box.checked = false;
    describe(scale);
  }

  function describeAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-scale]"), describe);
  }

  function isRange(target) {
    return target instanceof HTMLInputElement && target.type === "range";
  }

  // A finger that lands on a slider may be starting a scroll: the browser moves the slider to
  // the finger at once, before anyone knows. So a touch answers only once it is a tap or
  // moves more sideways than up or down; a scroll puts back the value and "Not answered" as
  // they were (SPEC §11). The stylesheet lets the page scroll vertically from a slider.
  var SLOP = 8; // px a finger moves before the gesture counts as a direction
  var touch = null;

  function putBack(gesture) {
    gesture.range.value = gesture.value;
    if (gesture.box) gesture.box.checked = gesture.unanswered;
    var scale = gesture.range.closest("[data-scale]");
    if (scale) describe(scale);
  }

  function settle(gesture, answered) {
    gesture.state = answered ? "answer" : "scroll";
    if (answered) markAnswered(gesture.range);
    else putBack(gesture);
  }

  document.addEventListener("pointerdown", function (event) {
    if (event.pointerType === "mouse" || !isRange(event.target)) return;
    var range = event.target;
    var scale = range.closest("[data-scale]");
    var box = scale ? scale.querySelector("[data-unanswered]") : null;
    touch = {
      range: range, box: box, value: range.value, unanswered: box ? box.checked : false,
      id: event.pointerId, x: event.clientX, y: event.clientY, state: "unsure",
    };
  }, true);

  document.addEventListener("pointermove", function (event) {
    if (!touch || event.pointerId !== touch.id || touch.state !== "unsure") return;
    var dx = Math.abs(event.clientX - touch.x);
    var dy = Math.abs(event.clientY - touch.y);
    if (Math.max(dx, dy) >= SLOP) settle(touch, dx > dy);
  }, true);

  document.addEventListener("pointerup", function (event) {
    if (event.pointerType === "mouse") {
      // A click on the thumb where it already is moves nothing and fires no input event, yet
      // the patient chose that value.
      if (isRange(event.target)) markAnswered(event.target);
      return;
    }
    if (!touch || event.pointerId !== touch.id) return;
    if (touch.state === "unsure") settle(touch, true); // a tap
    else if (touch.state === "scroll") putBack(touch);
    touch = null;
  }, true);

  // The browser took the gesture over to scroll the page.
  document.addEventListener("pointercancel", function (event) {
    if (!touch || event.pointerId !== touch.id) return;
    if (touch.state !== "answer") settle(touch, false);
    touch.state = "scroll"; // kept until the finger lifts: see the input listener
  }, true);
  document.addEventListener("touchend", function () {
    if (touch && touch.state === "scroll") putBack(touch);
    if (touch && touch.state !== "unsure") touch = null;
  }, true);

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!isRange(target)) return;
    if (touch && touch.range === target && touch.state !== "answer") {
      // Not an answer (yet): a scroll must not leave the finger's value behind.
      if (touch.state === "scroll") putBack(touch);
      return;
    }
    markAnswered(target);
  });

  // "No side effects" in one tap: every effect not rated above none becomes none, and back
  // to not answered when untapped; rating one above none takes the tick away.
  function noSideEffects(box) {
    var form = box.form;
    if (!form) return;
    form.querySelectorAll("[data-side-effect]").forEach(function (fieldset) {
      var chosen = fieldset.querySelector("input[type=radio]:checked");
      var rated = chosen && chosen.value !== "" && chosen.value !== "0";
      if (rated) return;
      var wanted = fieldset.querySelector("input[type=radio][value='" + (box.checked ? "0" : "") + "']");
      if (wanted) wanted.checked = true;
    });
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement)) return;
    if (box.hasAttribute("data-no-side-effects")) { noSideEffects(box); return; }
    var effect = box.type === "radio" ? box.closest("[data-side-effect]") : null;
    if (effect && box.form) {
      var all = box.form.querySelector("[data-no-side-effects]");
      if (all && box.value !== "0") all.checked = false;
      return;
    }
    if (!box.hasAttribute("data-unanswered")) return;
    var scale = box.closest("[data-scale]");
    if (scale) describe(scale);
  });

  document.addEventListener("DOMContentLoaded", function () { describeAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    describeAll(target && target.isConnected ? target : document);
    // Answers to check: take keyboard and screen reader straight to the list of them. Saved:
    // the form was swapped with the button that had the focus, so the focus goes to "Saved"
    // (beside that button), which a screen reader then reads out.
    // Nothing answered: the words beside Save, where the thumb is, take the focus.
    var summary = document.getElementById("error-summary");
    var saveError = document.querySelector("#save-error[tabindex]");
    var status = document.querySelector("[data-save-status]");
    if (saveError) saveError.focus();
    else if (summary) summary.focus();
    else if (status && status.textContent.trim()) status.focus();
  });

  // "Copy the link" where the browser can copy: the one-time share link goes to the clipboard.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          button.textContent = "Copied";
        }, function () {
          field.select();  // the patient can still copy it by hand
        });
      });
    });
  });

  // Registration records the browser's time zone, so "today" is the patient's today; the
  // account page offers it with one tap.
  function deviceTimezone() {
    try { return window.Intl ? Intl.DateTimeFormat().resolvedOptions().timeZone || null : null; } catch (e) { return null; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var zone = deviceTimezone();
    var field = document.querySelector("[data-timezone]");
    if (field && zone) field.value = zone;
    var button = document.querySelector("[data-device-timezone]");
    var input = document.getElementById("timezone");
    if (button && input && zone) {
      button.hidden = false;
      button.textContent = "Use this phone's time zone (" + zone + ")";
      button.addEventListener("click", function () { input.value = zone; input.focus(); });
    }
  });
})();

// Offline-first: the service worker, the outbox of days saved on this device, installing.
(function () {
  "use strict";
  var body = document.body;
  var account = body && body.dataset.account ? body.dataset.account : null;
  var outbox = window.LdnOutbox;

  // Only the pages: the app shell (CSS, scripts, the offline page) holds nothing personal,
  // and without it the next offline visit could not save a day.
  function clearPageCaches() {
    if (!window.caches) return Promise.resolve();
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "clear-caches" });
    }
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("ldn-pages-") === 0; })
        .map(function (name) { return caches.delete(name); }));
    });
  }

  // Pages of one account must never be shown to another: drop every cached page when the
  // account changes, and whenever the sign-in page shows (after signing out here, or because
  // this device was signed out from another one). Those pages are never served from a cache.
  var previous = null;
  try { previous = localStorage.getItem("ldn-account"); } catch (e) { /* private mode */ }
  if (!account && /^\/(login|register)$/.test(location.pathname)) clearPageCaches();
  if (account && previous && previous !== account) clearPageCaches();
  if (account) { try { localStorage.setItem("ldn-account", account); } catch (e) { /* ignore */ } }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* the app works without it */ });
  }

  function entryFromForm(form) {
    var data = new FormData(form);
    var entry = { date: form.dataset.day, ratings: {}, side_effects: {} };
    var answered = 0;
    form.querySelectorAll("[data-scale] input[type=range]").forEach(function (range) {
      var value = data.has(range.name + "_unanswered") ? null : parseInt(range.value, 10);
      // Every item goes by its key in `ratings` (pack and own items too); the check-in's
      // tolerability is not an item and stays at the top level.
      if (range.name === "tolerability") entry.tolerability = value;
      else entry.ratings[range.name] = value;
      if (value !== null) answered++;
    });
    form.querySelectorAll("[data-side-effect]").forEach(function (fieldset) {
      var key = fieldset.dataset.sideEffect;
      var raw = data.get(key);
      entry.side_effects[key] = raw ? parseInt(raw, 10) : null;
      if (raw) answered++;
    });
    var taken = data.get("dose_taken");
    entry.dose_taken = taken === "yes" ? true : taken === "no" ? false : null;
    var mg = String(data.get("dose_mg") || "").trim().replace(",", ".");
    entry.dose_mg = mg ? parseFloat(mg) : null;
    var pgic = data.get("pgic");
    entry.pgic = pgic ? parseInt(pgic, 10) : null;
    ["dose_time", "notes", "other_text"].forEach(function (key) {
      var text = String(data.get(key) || "").trim();
      entry[key] = text || null;
    });
    ["dose_taken", "dose_mg", "pgic", "dose_time", "notes", "other_text"].forEach(function (key) {
      if (entry[key] !== null) answered++;
    });
    entry.client_id = deviceId();
    entry.client_edited_at = new Date().toISOString();
    return answered ? entry : null;
  }

  function newId() {
    return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function deviceId() {
    var id = null;
    try { id = localStorage.getItem("ldn-device"); } catch (e) { /* ignore */ }
    if (!id) {
      id = newId();
      try { localStorage.setItem("ldn-device", id); } catch (e) { /* ignore */ }
    }
    return id;
  }

  // This page's form, in the outbox: its offline saves replace one another, and another
  // tab's stay beside them (both are sent; the later is the day's version, the earlier goes
  // to its history). A page filled from a waiting save builds on it: that save goes once
  // this form's own is kept, unless it changed meanwhile.
  var formKey = newId();
  var filledFrom = null;

  function say(form, text) {
    var status = form.querySelector("[data-save-status]");
    if (status) status.textContent = text;
  }

  function updateBadge() {
    var badge = document.querySelector("[data-outbox-badge]");
    if (!badge || !account || !outbox) return Promise.resolve();
    return outbox.waiting(account).then(function (records) {
      var stuck = records.filter(function (record) { return record.errors; });
      var days = new Set(records.map(function (record) { return record.date; })).size;
      var stuckDays = new Set(stuck.map(function (record) { return record.date; })).size;
      badge.hidden = days === 0;
      badge.textContent = days === 1 ? "1 day waiting to sync" : days + " days waiting to sync";
      // A day the server refused waits for the patient: the badge opens it to put it right.
      badge.setAttribute("href", stuck.length ? "/entries/" + stuck[0].date : "/history");
      if (stuck.length) badge.textContent += " (" + stuckDays + " could not be saved: tap to fix)";
    }).catch(function () { /* no IndexedDB: nothing waits */ });
  }

  var ON_PHONE = "Saved on this phone — will sync when you're online.";
  var SYNCED = "Saved and synced.";

  // The form said the day waits on this phone: once it has reached the server, say so.
  function sayIfSynced() {
    var form = document.getElementById("entry-form");
    var status = form && form.querySelector("[data-save-status]");
    var waiting = status && /will sync|sent again/.test(status.textContent);
    if (!waiting || !account || !outbox) return Promise.resolve();
    return outbox.waiting(account).then(function (records) {
      var waits = records.some(function (record) {
        return record.date === form.dataset.day && record.form === formKey;
      });
      if (!waits) status.textContent = SYNCED;
    }).catch(function () {});
  }

  function flush() {
    if (!account || !outbox) return Promise.resolve();
    return outbox.flush({ account: account, csrfToken: body.dataset.csrf }).then(updateBadge).then(sayIfSynced);
  }

  // The server did not take the day: keep it on this device instead, and send it later.
  function keepOnDevice(form, message) {
    var entry = entryFromForm(form);
    if (!entry) {
      say(form, "Answer at least one question before saving the day.");
      return Promise.resolve();
    }
    return outbox.put({ account: account, date: entry.date, form: formKey, entry: entry, csrf: body.dataset.csrf })
      .then(function () {
        var source = filledFrom;
        filledFrom = null;
        return source && outbox.settle(account, entry.date, formKey, source, false);
      })
      .then(function () {
        say(form, message);
        updateBadge();
        if (navigator.serviceWorker && "SyncManager" in window) {
          navigator.serviceWorker.ready.then(function (registration) {
            return registration.sync.register("ldn-outbox");
          }).catch(function () { /* the page's own retries cover it */ });
        }
      })
      .catch(function () {
        // Most often a newer version of the app, open in another tab, changed this phone's
        // store: this page's older script cannot open it.
        say(form, "This phone could not keep the day. Reload the page, then save it again.");
      });
  }

  function entryForm(event) {
    var form = event.detail && event.detail.elt;
    return form && form.id === "entry-form" && account && outbox ? form : null;
  }

  // Saved on the server: what this form kept waiting on this phone for that day is in it
  // (see `settle`), so it need not be sent again. Another tab's stays.
  // (The form itself has been swapped out by now: the request's path says which day it was.)
  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail || {};
    var xhr = detail.xhr;
    var saved = /^\/entries\/(\d{4}-\d{2}-\d{2})$/.exec((detail.pathInfo && detail.pathInfo.requestPath) || "");
    var verb = detail.requestConfig && detail.requestConfig.verb;
    if (!saved || verb !== "post" || !account || !outbox || !xhr) return;
    if (xhr.status >= 200 && xhr.status < 300 && !xhr.getResponseHeader("HX-Redirect")) {
      var source = filledFrom;
      filledFrom = null;
      outbox.settle(account, saved[1], formKey, source, true).then(updateBadge).catch(function () {});
    }
  });

  // No network at all.
  document.addEventListener("htmx:sendError", function (event) {
    var form = entryForm(event);
    if (form) keepOnDevice(form, ON_PHONE);
  });
  // The server answered but did not save: an error on its side, an expired page (403), or a
  // session that ended (the answer sends the page on to sign in). Checked before htmx follows
  // that redirect, so the day is already safe on the phone. 422 shows the form's own messages.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var form = entryForm(event);
    var xhr = event.detail.xhr;
    if (!form || !xhr) return;
    var redirect = xhr.getResponseHeader("HX-Redirect") || "";
    var message = "Not saved on the server yet — kept on this phone, and sent again shortly.";
    if (redirect.indexOf("/login") === 0) {
      // Leave for the sign-in page only once the day is stored: leaving could cut that short.
      event.preventDefault();
      keepOnDevice(form, message).then(function () { location.href = redirect; });
    } else if (xhr.status >= 400 && xhr.status !== 422) {
      keepOnDevice(form, message);
    }
  });

  function localDay(moment) {
    var month = String(moment.getMonth() + 1).padStart(2, "0");
    var day = String(moment.getDate()).padStart(2, "0");
    return moment.getFullYear() + "-" + month + "-" + day;
  }

  // A /today page kept from an earlier day (opened offline) must not save onto that day:
  // turn it into an empty form for this device's today.
  function freshToday(form, today) {
    var path = "/entries/" + today;
    form.dataset.day = today;
    form.setAttribute("action", path);
    form.setAttribute("hx-post", path);
    form.querySelectorAll("[data-unanswered]").forEach(function (box) { box.checked = true; });
    form.querySelectorAll("input[type=radio][value='']").forEach(function (radio) { radio.checked = true; });
    form.querySelectorAll("[data-no-side-effects]").forEach(function (box) { box.checked = false; });
    form.querySelectorAll("input[type=text], input[type=time], textarea").forEach(function (field) { field.value = ""; });
    var heading = form.querySelector("h1");
    var date = new Date(today + "T12:00:00");
    if (heading) {
      heading.textContent = "Today, " + date.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });
    }
    var earlier = form.querySelector(".day-nav[href]");
    if (earlier) earlier.setAttribute("href", "/entries/" + localDay(new Date(date.getTime() - 864e5)));
    document.querySelectorAll(".danger-zone, .day-history, [data-retrospective]").forEach(function (old) { old.remove(); });
    say(form, "");
  }

  // Answers saved on this phone and not yet on the server are what the patient last wrote:
  // show them, so that a further edit builds on them instead of replacing them.
  function fillFrom(form, entry, errors) {
    form.querySelectorAll("[data-scale] input[type=range]").forEach(function (range) {
      var ratings = entry.ratings || {};
      var value = range.name in ratings ? ratings[range.name] : entry[range.name];
      var box = form.querySelector("[name=" + range.name + "_unanswered]");
      if (box) box.checked = value === null || value === undefined;
      if (value !== null && value !== undefined) range.value = value;
    });
    function choose(name, value) {
      var wanted = value === null || value === undefined ? "" : String(value);
      var radio = form.querySelector("input[type=radio][name=" + name + "][value='" + wanted + "']");
      if (radio) radio.checked = true;
    }
    var effects = entry.side_effects || {};
    Object.keys(effects).forEach(function (key) { choose(key, effects[key]); });
    var none = form.querySelector("[data-no-side-effects]");
    if (none) none.checked = Object.keys(effects).length > 0 && Object.keys(effects).every(function (key) { return effects[key] === 0; });
    choose("dose_taken", entry.dose_taken === true ? "yes" : entry.dose_taken === false ? "no" : null);
    choose("pgic", entry.pgic);
    ["dose_time", "notes", "other_text", "dose_mg"].forEach(function (key) {
      var field = form.querySelector("[name=" + key + "]");
      if (field) field.value = entry[key] === null || entry[key] === undefined ? "" : String(entry[key]);
    });
    if (errors) {
      var problems = Object.keys(errors).map(function (key) { return errors[key]; }).join(" ");
      say(form, "This day could not be saved: " + problems + " Please put it right and save again.");
    } else {
      say(form, ON_PHONE);
    }
  }

  var form = document.getElementById("entry-form");
  if (form && account) {
    var today = localDay(new Date());
    if (location.pathname === "/today" && form.dataset.day < today) freshToday(form, today);
    if (outbox) {
      outbox.waiting(account).then(function (records) {
        // The day's latest waiting save; one the server refused first, to be put right.
        var day = records
          .filter(function (record) { return record.date === form.dataset.day; })
          .sort(function (a, b) {
            if (!a.errors !== !b.errors) return a.errors ? 1 : -1;
            return a.entry.client_edited_at < b.entry.client_edited_at ? -1 : 1;
          });
        var shown = day.pop();
        if (!shown) return;
        filledFrom = { form: shown.form, editedAt: shown.entry.client_edited_at };
        fillFrom(form, shown.entry, shown.errors);
        // The sliders' readouts follow their "Not answered" boxes (see the top of this file).
        form.querySelectorAll("[data-unanswered]").forEach(function (box) {
          box.dispatchEvent(new Event("change", { bubbles: true }));
        });
      }).catch(function () { /* no IndexedDB: nothing waits */ });
    }
  }

  window.addEventListener("online", flush);
  document.addEventListener("DOMContentLoaded", flush);
  // Phones do not always announce a returning network: retry while days wait.
  setInterval(function () {
    if (!account || !outbox) return;
    outbox.waiting(account).then(function (records) { if (records.length) flush(); }).catch(function () {});
  }, 15000);

  // Installing: a button where the browser offers it, a hint on iOS, nothing once installed.
  var deferredPrompt = null;
  var standalone = window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    deferredPrompt = event;
    var aside = document.querySelector("[data-install]");
    var button = document.querySelector("[data-install-button]");
    if (aside && button) { aside.hidden = false; button.hidden = false; }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.closest("[data-install-button]") || !deferredPrompt) return;
    deferredPrompt.prompt();
    deferredPrompt.userChoice.finally(function () {
      deferredPrompt = null;
      var aside = document.querySelector("[data-install]");
      if (aside) aside.hidden = true;
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    var ios = /iphone|ipad|ipod/i.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
    if (ios && !standalone && !navigator.standalone) {
      var aside = document.querySelector("[data-install]");
      var hint = document.querySelector("[data-install-ios]");
      if (aside && hint) { aside.hidden = false; hint.hidden = false; }
    }
    updateBadge();
  });
})();
