// LDN Diary service worker (served at /sw.js so its scope is the whole app).
//
// - The app shell (CSS, JS, icons, the offline page) is precached per VERSION.
// - Pages: network first; the last copy seen is the fallback when offline, or when the
//   network has not answered within a few seconds (a network that hangs, not only one that
//   refuses). Pages never cached fall back to the offline page the same way.
// - Never cached: htmx fragments, POSTs, the JSON API, /sync, sign-in pages, share links,
//   the report and settings pages.
// - When the server says the session ended (a page sends the browser on to sign in, or a
//   401), every cached page goes at once: another device signed this one out.
// - Days saved offline wait in IndexedDB (see static/js/outbox.js); Background Sync,
//   where the browser has it, flushes them even after the page is closed.
/* eslint-env serviceworker */
"use strict";

// Filled in by the server (app/web/pwa.py) with the hash of the static files: any change to
// them makes this file different, so the browser installs the new worker and its caches.
const VERSION = "__STATIC_VERSION__";
importScripts("/static/js/outbox.js?v=" + VERSION);
const SHELL_CACHE = "ldn-shell-" + VERSION;
const PAGE_CACHE = "ldn-pages-" + VERSION;
const SHELL = [
  "/offline",
  "/static/css/app.css?v=" + VERSION,
  "/static/js/htmx-2.0.11.min.js",
  "/static/js/app.js?v=" + VERSION,
  "/static/js/outbox.js?v=" + VERSION,
  "/static/icons/icon-192.png",
  "/static/icons/icon.svg",
];
// Also never: the report and settings pages, which can show a share link or a backup, and
// anything under /trial/ (the pharmacy sheet names the bottles that hold LDN).
const NEVER_CACHE = [
  "/api/", "/sync", "/login", "/register", "/logout", "/docs", "/openapi.json", "/sw.js",
  "/shared/", "/report", "/settings", "/calendar/", "/trial/",
];

// How long a page waits for the network before the cached copy or the offline page shows.
// Pages that are never cached (the report, settings, downloads) may take longer to make.
const PAGE_TIMEOUT_MS = 4000;
const UNCACHED_TIMEOUT_MS = 20000;
// A late answer still refreshes the cache, but nothing waits longer than this for it.
const GIVE_UP_MS = 30000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name !== SHELL_CACHE && name !== PAGE_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

// Pages only: the shell holds nothing personal and keeps offline saving working.
function clearPages() {
  return caches.keys().then((names) => Promise.all(
    names.filter((name) => name.startsWith("ldn-pages-")).map((name) => caches.delete(name))
  ));
}

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "clear-caches") event.waitUntil(clearPages());
});

// The server's way of saying this device's session is over (signed out everywhere, the
// account deleted): a page that sends the browser on to sign in, or 401.
function sessionEnded(response) {
  if (response.status === 401) return true;
  return response.redirected && new URL(response.url).pathname === "/login";
}

function neverCached(url) {
  return NEVER_CACHE.some((prefix) => url.pathname === prefix || url.pathname.startsWith(prefix));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.headers.get("HX-Request")) return;

  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staticFile(request));
    return;
  }
  if (request.mode !== "navigate") return;
  if (neverCached(url)) {
    // Never from a cache, but the app's own offline page rather than the browser's error.
    event.respondWith(fromNetwork(request, event, UNCACHED_TIMEOUT_MS, false));
  } else {
    event.respondWith(fromNetwork(request, event, PAGE_TIMEOUT_MS, true));
  }
});

// Static files are versioned by name or ?v=: a copy is good until the version changes. One
// fetched here (the shell after a cache was cleared) is kept for the next offline visit.
async function staticFile(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

function after(ms) {
  return new Promise((resolve) => { setTimeout(() => resolve(null), ms); });
}

// The network's answer if it comes within `waitMs`; else (or offline) the page kept from an
// earlier visit, when `keep` allows caching it, or the app's offline page.
async function fromNetwork(request, event, waitMs, keep) {
  const abort = new AbortController();
  const giveUp = setTimeout(() => abort.abort(), GIVE_UP_MS);
  const network = fetch(request, { signal: abort.signal }).then(async (response) => {
    if (sessionEnded(response)) {
      await clearPages();
    } else if (keep && response.ok && !response.redirected
      && (response.headers.get("Content-Type") || "").startsWith("text/html")) {
      const cache = await caches.open(PAGE_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  }).finally(() => clearTimeout(giveUp));
  event.waitUntil(network.catch(() => null)); // a late answer still refreshes the cache
  try {
    const response = await Promise.race([network, after(waitMs)]);
    if (response) return response;
  } catch (offline) {
    // no network at all: as below
  }
  const cached = keep ? await caches.match(request, { ignoreVary: true }) : null;
  if (cached) return cached;
  return (await caches.match("/offline")) || Response.error();
}

self.addEventListener("sync", (event) => {
  if (event.tag === "ldn-outbox") {
    // Reject while days still wait, so the browser schedules another attempt itself.
    const flushed = self.LdnOutbox.flush().then(() => self.LdnOutbox.all());
    event.waitUntil(flushed.then((records) => {
      if (records.some((record) => !record.errors)) throw new Error("days still wait to sync");
    }));
  }
});

// Reminders (SPEC §13): show the push as a notification; a tap opens /today. The text comes
// from the server and never names the drug or a symptom.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "Your diary", {
      body: message.body || "Time for your diary.",
      tag: message.tag || "reminder",
      icon: "/static/icons/icon-192.png",
      data: { url: "/today" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL("/today", self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin && "focus" in client) {
          const focused = await client.focus();
          return "navigate" in focused ? focused.navigate(target) : focused;
        }
      }
      return self.clients.openWindow(target);
    })(),
  );
});
