//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`),
//! for the browser tests and the banner benchmark: one chromedriver process per
//! [`Browser`], a fresh profile, and a watcher in every page that keeps script errors,
//! failed loads, Content-Security-Policy violations and console errors.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether the browser tests can run here; panics when they must and cannot.
pub fn browser_available() -> bool {
    let present = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var("CUSTOS_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "CUSTOS_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: {CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver)");
    }
    present
}

/// A chromedriver process and one browser session in it.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless session; with `gpc`, pages see Global Privacy
    /// Control on.
    pub async fn start(gpc: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        // A stuck browser fails the test instead of hanging it.
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready
                && let Ok(status) = r.json::<Value>().await
                && status["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile");
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "timeouts": {"pageLoad": 30_000, "script": 30_000}, "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     format!("--user-data-dir={}", profile.path().display())],
        }}}});
        let created: Value =
            http.post(format!("{base}/session")).json(&caps).send().await.expect("session").json().await.expect("json");
        let session =
            created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_owned();
        let browser = Self { driver, http, session, base, profile };
        // Every page keeps what goes wrong in it: script errors, resources that fail to
        // load, Content-Security-Policy violations and console errors.
        browser
            .command("goog/cdp/execute", json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {
                "source": "window.__custosErrors = []; \
                    const keep = (what) => window.__custosErrors.push(String(what)); \
                    window.addEventListener('error', (e) => keep(e.message || ('failed to load ' + (e.target && (e.target.src || e.target.href)))), true); \
                    document.addEventListener('securitypolicyviolation', (e) => keep('CSP ' + e.violatedDirective + ' ' + e.blockedURI)); \
                    const original = console.error; console.error = (...a) => { keep(a.join(' ')); original.apply(console, a); };"
            }}))
            .await;
        if gpc {
            browser
                .command("goog/cdp/execute", json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {
                    "source": "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
                }}))
                .await;
        }
        browser
    }

    /// Sends a WebDriver command of this session; returns its `value`.
    pub async fn command(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let reply: Value = self.http.post(url).json(&body).send().await.expect("webdriver").json().await.expect("json");
        reply["value"].clone()
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) {
        self.command("url", json!({"url": url})).await;
    }

    /// Runs `source` in the page and returns what it returns.
    pub async fn script(&self, source: &str) -> Value {
        self.command("execute/sync", json!({"script": source, "args": []})).await
    }

    /// Waits for an element and returns its id, or `None` after `timeout`.
    pub async fn find(&self, css: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.command("element", json!({"using": "css selector", "value": css})).await;
            if let Some(id) = found[ELEMENT].as_str() {
                return Some(id.to_owned());
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element `css` finds (waiting up to 10 s for it).
    pub async fn click(&self, css: &str) {
        let id = self.find(css, Duration::from_secs(10)).await.unwrap_or_else(|| panic!("no {css}"));
        self.command(&format!("element/{id}/click"), json!({})).await;
    }

    /// Types `text` into the element `css` finds.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css, Duration::from_secs(10)).await.unwrap_or_else(|| panic!("no {css}"));
        self.command(&format!("element/{id}/value"), json!({"text": text})).await;
    }

    /// What went wrong in the current page so far.
    pub async fn errors(&self) -> Vec<String> {
        let found = self.script("return window.__custosErrors || ['the error watcher is missing']").await;
        found
            .as_array()
            .map(|a| a.iter().map(|e| e.as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let url = format!("{}/session/{}/screenshot", self.base, self.session);
        let reply: Value = self.http.get(url).send().await.expect("screenshot").json().await.expect("json");
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, reply["value"].as_str().unwrap_or_default())
            .expect("base64 png")
    }

    /// Checks that the current page has loaded without errors and shows something: its
    /// screenshot is larger than one of the same page emptied (a blank page compresses
    /// to almost nothing), measured in the same browser.
    pub async fn assert_page_fine(&self, what: &str) {
        let errors = self.errors().await;
        assert!(errors.is_empty(), "{what}: errors in the page: {errors:?}");
        let shown = self.screenshot().await;
        assert!(shown.starts_with(b"\x89PNG"), "{what}: a PNG");
        let html =
            self.script("const h = document.documentElement.outerHTML; document.body.innerHTML = ''; return h").await;
        let blank = self.screenshot().await;
        assert!(
            shown.len() > blank.len() * 3 / 2,
            "{what}: the page looks blank ({} vs {} bytes): {html}",
            shown.len(),
            blank.len()
        );
    }

    /// The value of the page's cookie `name`, as script sees it.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let all = self.script("return document.cookie").await;
        all.as_str()?.split("; ").find_map(|c| c.strip_prefix(&format!("{name}=")).map(|v| v.to_owned()))
    }
    /// The WCAG 2 A and AA rules the current page breaks, by axe-core (`axe_js`: the
    /// source of `axe.min.js`), one line per rule with the elements that break it.
    pub async fn accessibility_violations(&self, axe_js: &str) -> Vec<String> {
        let run = format!(
            "{axe_js}\n;const done = arguments[arguments.length - 1];\
             axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}})\
             .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + \
             v.nodes.map(n => n.target.join(' ')).join(', '))))\
             .catch(e => done(['axe failed: ' + e]));"
        );
        let found = self.command("execute/async", json!({"script": run, "args": []})).await;
        match found.as_array() {
            Some(list) => list.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect(),
            None => vec![format!("axe did not run: {found}")],
        }
    }

    /// Where axe-core's `axe.min.js` is, from `CUSTOS_AXE_JS`; `None` without it, unless
    /// `CUSTOS_REQUIRE_BROWSER=1`, which makes it required (as in CI, which installs it
    /// from the npm registry).
    pub fn axe_source() -> Option<String> {
        match std::env::var("CUSTOS_AXE_JS") {
            Ok(path) => Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("CUSTOS_AXE_JS={path}: {e}"))),
            Err(_) => {
                assert!(
                    std::env::var("CUSTOS_REQUIRE_BROWSER").as_deref() != Ok("1"),
                    "CUSTOS_REQUIRE_BROWSER=1 but CUSTOS_AXE_JS does not name axe-core's axe.min.js (npm install axe-core)"
                );
                eprintln!("accessibility checks skipped: set CUSTOS_AXE_JS to axe-core's axe.min.js");
                None
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Killing chromedriver leaves the browser it started running, orphaned (dozens of
        // them after a test run, each holding memory and waking up now and then). Every
        // process of this session's browser names its own profile directory on its command
        // line: end those.
        let _ = Command::new("pkill")
            .args(["-KILL", "-f"])
            // (no leading dashes: pkill would read the pattern as an option of its own)
            .arg(format!("user-data-dir={}", self.profile.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
