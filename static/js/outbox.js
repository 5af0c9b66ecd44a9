// The offline outbox: diary days saved on this device while the network was away.
//
// Loaded by pages and by the service worker (importScripts), so both flush it the same way.
// One record per account, diary day and form: a later offline save from the same form (the
// same page, or one filled from this record) replaces the earlier one, and two tabs each keep
// their own. All of them are sent; the server keeps the day's latest edit current and the
// others in its history, as it does for saves made online. Each record carries the device id
// and the edit time; the server applies each (device id, edit time) once, so sending a record
// twice never makes a second entry.
(function (scope) {
  "use strict";

  var DB_NAME = "ldn-diary";
  var STORE = "edits";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 2);
      request.onupgradeneeded = function (event) {
        var db = request.result;
        var store = db.createObjectStore(STORE, { keyPath: ["account", "date", "form"] });
        if (event.oldVersion < 1) return;
        // Version 1 kept one record per account and day: each becomes a form's record.
        var earlier = request.transaction.objectStore("outbox").getAll();
        earlier.onsuccess = function () {
          earlier.result.forEach(function (record) {
            record.form = "earlier";
            store.put(record);
          });
          db.deleteObjectStore("outbox");
        };
      };
      request.onsuccess = function () {
        // A newer version of the app (another tab) upgrading the store: let it.
        request.result.onversionchange = function () { request.result.close(); };
        resolve(request.result);
      };
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
    // A record from before forms were told apart, or put by hand, is this device's.
    if (record.form === undefined) record.form = "device";
    return withStore("readwrite", function (store) { store.put(record); });
  }

  function keyOf(record) {
    return [record.account, record.date, record.form];
  }

  function removeIfUnchanged(sent) {
    // Only drop the record the server confirmed; a newer edit from that form stays.
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, "readwrite");
        var store = transaction.objectStore(STORE);
        var lookup = store.get(keyOf(sent));
        lookup.onsuccess = function () {
          var current = lookup.result;
          if (current && current.entry.client_edited_at === sent.entry.client_edited_at) {
            store.delete(keyOf(sent));
          }
        };
        transaction.oncomplete = function () { db.close(); resolve(); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  // After a form's save was kept (on this phone, or on the server when `saved`): drop its
  // own earlier record, the record it was filled from (`filledFrom`: account, date, form and
  // edit time) if that has not changed since, and, once saved on the server, the day's
  // records the server refused before: the save put them right, and they can never be sent.
  // Other tabs' waiting saves stay: they are sent, and kept in the day's history.
  function settle(account, date, form, filledFrom, saved) {
    return withStore("readwrite", function (store) {
      var lookup = store.getAll();
      lookup.onsuccess = function () {
        lookup.result.forEach(function (record) {
          if (record.account !== account || record.date !== date) return;
          var mine = saved && record.form === form;
          var source = filledFrom && record.form === filledFrom.form &&
            record.entry.client_edited_at === filledFrom.editedAt;
          var refused = saved && record.errors;
          if (mine || source || refused) store.delete(keyOf(record));
        });
      };
    });
  }

  function markRejected(sent, errors) {
    return withStore("readwrite", function (store) {
      var lookup = store.get(keyOf(sent));
      lookup.onsuccess = function () {
        if (lookup.result && lookup.result.entry.client_edited_at === sent.entry.client_edited_at) {
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
          // One result per record sent, in order.
          return response.json().then(function (body) {
            return Promise.all(body.results.map(function (result, index) {
              if (result.status === "rejected") return markRejected(group[index], result.errors);
              return removeIfUnchanged(group[index]);
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

  scope.LdnOutbox = { put: put, all: all, flush: flush, waiting: count, settle: settle };
})(self);
