// The offline outbox: diary days saved on this device while the network was away.
//
// Loaded by pages and by the service worker (importScripts), so both flush it the same way.
// One record per account and diary day: a later offline edit of the same day replaces the
// earlier one. Each record carries the device id and the edit time; the server applies each
// (device id, edit time) once, so sending a record twice never makes a second entry.
(function (scope) {
  "use strict";

  var DB_NAME = "ldn-diary";
  var STORE = "outbox";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: ["account", "date"] });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var result = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { db.close(); resolve(result && result.result !== undefined ? result.result : result); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function all() {
    return withStore("readonly", function (store) { return store.getAll(); });
  }

  function put(record) {
    return withStore("readwrite", function (store) { store.put(record); });
  }

  function removeIfUnchanged(account, date, editedAt) {
    // Only drop the record the server confirmed; a newer edit made meanwhile stays.
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, "readwrite");
        var store = transaction.objectStore(STORE);
        var lookup = store.get([account, date]);
        lookup.onsuccess = function () {
          var current = lookup.result;
          if (current && current.entry.client_edited_at === editedAt) store.delete([account, date]);
        };
        transaction.oncomplete = function () { db.close(); resolve(); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function forget(account, date) {
    return withStore("readwrite", function (store) { store.delete([account, date]); });
  }

  function markRejected(account, date, errors) {
    return withStore("readwrite", function (store) {
      var lookup = store.get([account, date]);
      lookup.onsuccess = function () {
        if (lookup.result) {
          lookup.result.errors = errors;
          store.put(lookup.result);
        }
      };
    });
  }

  function clearPages() {
    if (!scope.caches) return Promise.resolve();
    return scope.caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("ldn-pages-") === 0; })
        .map(function (name) { return scope.caches.delete(name); }));
    });
  }

  var flushing = null;

  // Send waiting days of `account` (every account when called by the service worker, which
  // then relies on the server refusing days of an account that is not signed in).
  function flush(options) {
    if (flushing) return flushing;
    options = options || {};
    flushing = all().then(function (records) {
      var waiting = records.filter(function (record) {
        return !record.errors && (options.account === undefined || record.account === options.account);
      });
      var byAccount = {};
      waiting.forEach(function (record) {
        (byAccount[record.account] = byAccount[record.account] || []).push(record);
      });
      return Promise.all(Object.keys(byAccount).map(function (account) {
        var group = byAccount[account];
        var token = options.csrfToken || group[group.length - 1].csrf;
        return fetch("/sync", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
          body: JSON.stringify({ account: group[0].account, entries: group.map(function (r) { return r.entry; }) }),
        }).then(function (response) {
          // 401: this device's session ended (signed out everywhere, or the account deleted
          // on another device). The pages kept for offline use go now; the days stay.
          if (response.status === 401) return clearPages().then(function () { return null; });
          if (!response.ok) return null;
          return response.json().then(function (body) {
            return Promise.all(body.results.map(function (result) {
              if (result.status === "rejected") return markRejected(group[0].account, result.date, result.errors);
              return removeIfUnchanged(group[0].account, result.date, result.client_edited_at);
            }));
          });
        });
      }));
    }).catch(function () {
      return null; // still offline: the days stay and the next attempt sends them
    }).then(function (value) {
      flushing = null;
      return value;
    });
    return flushing;
  }

  function count(account) {
    return all().then(function (records) {
      return records.filter(function (record) { return record.account === account; });
    });
  }

  scope.LdnOutbox = { put: put, all: all, flush: flush, waiting: count, forget: forget };
})(self);
