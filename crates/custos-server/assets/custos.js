/* custos.js: the consent banner and the privacy-respecting tracker of custos.
   One tag: <script src="https://CUSTOS/custos.js" defer></script>
   API: custos.consent() -> {category: bool}; custos.open(); custos.language; window event
   "custos:consent". Any element with [data-custos-open] reopens the choices. The banner
   speaks the first of: the tag's data-lang, the page's <html lang>, the browser's
   languages, that custos has wording for; else the operator's default. */
(function () {
  "use strict";
  var CONFIG = __CUSTOS_CONFIG__;
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  function language() {
    var wanted = [script && script.getAttribute("data-lang"), document.documentElement.lang]
      .concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var tag = wanted[i] && String(wanted[i]).toLowerCase().split("-")[0];
      if (tag && Object.prototype.hasOwnProperty.call(CONFIG.languages, tag)) return tag;
    }
    return CONFIG.default_language;
  }
  var LANG = language();
  var WORDING = CONFIG.languages[LANG];
  var T = WORDING.strings;
  var COOKIE = "custos_consent", VID = "custos_vid";
  var YEAR = 365 * 24 * 3600;

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return null;
  }
  function writeCookie(name, value, maxAge) {
    document.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + maxAge + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function stored() {
    try {
      var s = JSON.parse(readCookie(COOKIE) || "null");
      return s && s.c && s.t ? s : null;
    } catch (e) { return null; }
  }
  /* Categories whose terms changed since the choice was made: asked again. */
  function stale() {
    return !state || CONFIG.categories.some(function (c) { return state.t[c.id] !== c.terms; });
  }
  function send(path, body) {
    var text = JSON.stringify(body);
    if (navigator.sendBeacon && navigator.sendBeacon(base + path, new Blob([text], { type: "text/plain" }))) return;
    try { fetch(base + path, { method: "POST", body: text, keepalive: true, headers: { "Content-Type": "text/plain" } }); } catch (e) { /* offline */ }
  }

  var state = stored();
  var gpc = navigator.globalPrivacyControl === true;

  function choices() {
    var out = {};
    CONFIG.categories.forEach(function (c) { out[c.id] = !!(state && state.c[c.id] && state.t[c.id] === c.terms); });
    return out;
  }
  function visitorId() {
    var id = readCookie(VID) || (state && state.id);
    if (!id) id = randomId();
    return id;
  }
  function signal() {
    var c = choices();
    if (typeof window.gtag === "function") {
      window.gtag("consent", "update", {
        analytics_storage: c.analytics ? "granted" : "denied",
        ad_storage: c.marketing ? "granted" : "denied",
        ad_user_data: c.marketing ? "granted" : "denied",
        ad_personalization: c.marketing ? "granted" : "denied",
        functionality_storage: "granted",
        personalization_storage: c.preferences ? "granted" : "denied",
        security_storage: "granted"
      });
    }
    var event;
    try { event = new CustomEvent("custos:consent", { detail: c }); } catch (e) { event = document.createEvent("CustomEvent"); event.initCustomEvent("custos:consent", false, false, c); }
    window.dispatchEvent(event);
  }
  function decide(c, method) {
    var id = visitorId();
    var terms = {};
    CONFIG.categories.forEach(function (k) { terms[k.id] = k.terms; });
    state = { v: WORDING.text_version, p: CONFIG.policy_version, c: c, t: terms, id: id };
    writeCookie(COOKIE, JSON.stringify(state), YEAR);
    if (c.analytics) writeCookie(VID, id, 13 * 30 * 24 * 3600); else writeCookie(VID, "", 0);
    send("/v1/banner/consent", { visitor_id: id, choices: c, method: method, text_version: WORDING.text_version });
    close();
    signal();
  }

  var root = null;
  function close() { if (root) { root.parentNode.removeChild(root); root = null; } }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }
  function open() {
    close();
    root = el("div", { id: "custos-banner", lang: LANG, role: "dialog", "aria-modal": "false", "aria-labelledby": "custos-title" });
    root.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;background:#fff;color:#1a1a1a;border-top:2px solid #1a1a1a;padding:16px;font:15px/1.5 system-ui,sans-serif;box-shadow:0 -2px 12px rgba(0,0,0,.2)";
    root.appendChild(el("h2", { id: "custos-title", style: "margin:0 0 8px;font-size:17px" }, T.title));
    var p = el("p", { style: "margin:0 0 8px" }, T.body + " ");
    var link = el("a", { href: base + "/privacy", style: "color:#0b4fa8" }, T.policy);
    p.appendChild(link);
    root.appendChild(p);
    var list = el("div", { style: "margin:0 0 8px" });
    var current = choices();
    CONFIG.categories.forEach(function (c) {
      var label = el("label", { style: "display:block;margin:4px 0" });
      var box = el("input", { type: "checkbox", name: c.id, "data-category": c.id });
      box.checked = current[c.id];
      label.appendChild(box);
      var text = WORDING.categories[c.id];
      label.appendChild(document.createTextNode(" " + text.name + ": " + text.description));
      list.appendChild(label);
    });
    root.appendChild(list);
    var buttons = el("div");
    function button(id, text, handler) {
      var b = el("button", { type: "button", id: id, style: "margin:4px 8px 0 0;padding:8px 14px;font:inherit;border:2px solid #1a1a1a;background:#fff;color:#1a1a1a;cursor:pointer" }, text);
      b.addEventListener("click", handler);
      buttons.appendChild(b);
      return b;
    }
    function all(value) { var c = {}; CONFIG.categories.forEach(function (k) { c[k.id] = value; }); return c; }
    var first = button("custos-reject", T.reject, function () { decide(all(false), "banner"); });
    button("custos-accept", T.accept, function () { decide(all(true), "banner"); });
    button("custos-save", T.save, function () {
      var c = {};
      Array.prototype.forEach.call(list.querySelectorAll("input[data-category]"), function (b) { c[b.getAttribute("data-category")] = b.checked; });
      decide(c, "banner");
    });
    root.appendChild(buttons);
    document.body.appendChild(root);
    first.focus();
  }

  function track(kind, extra) {
    var event = { kind: kind, url: location.href };
    for (var k in extra) if (Object.prototype.hasOwnProperty.call(extra, k)) event[k] = extra[k];
    var body = { events: [event] };
    if (choices().analytics && readCookie(VID)) body.visitor_id = readCookie(VID);
    send("/v1/events", body);
  }

  var shownAt = Date.now();
  function startTracking() {
    var ref = document.referrer;
    var entry = !ref || new URL(ref, location.href).origin !== location.origin;
    track("pageview", { referrer: ref || null, entry: entry });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") track("leave", { duration_ms: Date.now() - shownAt });
      else shownAt = Date.now();
    });
    document.addEventListener("click", function (e) {
      var a = e.target && e.target.closest ? e.target.closest("a[href]") : null;
      if (a) track("click", {});
    });
  }

  window.custos = { consent: choices, open: open, version: CONFIG.policy_version, language: LANG };
  document.addEventListener("click", function (e) {
    var t = e.target && e.target.closest ? e.target.closest("[data-custos-open]") : null;
    if (t) { e.preventDefault(); open(); }
  });
  if (typeof window.gtag === "function") {
    window.gtag("consent", "default", { analytics_storage: "denied", ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied", functionality_storage: "granted", security_storage: "granted" });
  }
  function ready(fn) { if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn); else fn(); }
  ready(function () {
    if (stale() && gpc) {
      var refused = {};
      CONFIG.categories.forEach(function (c) { refused[c.id] = false; });
      decide(refused, "gpc");
    } else if (stale()) {
      open();
    } else {
      signal();
    }
    startTracking();
  });
})();
