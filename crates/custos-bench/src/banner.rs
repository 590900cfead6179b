//! `banner`: custos.js as a site serves it: its size gzipped (`gzip -9`, target ≤ 10 KB;
//! fides.js is about 32 KB), and, in headless Chromium (Debian's `chromium` and
//! `chromium-driver`), the time from navigation start until the banner's buttons are in
//! the page and working, on the `/demo` page served over loopback, for `size` fresh page
//! loads with no choice stored. The page's own DOMContentLoaded time is measured in the
//! same loads as the reference. The issue names no time target; ours is interactive within
//! 200 ms at the 95th percentile on loopback.

use std::io::Write;
use std::process::{Command, Stdio};

use custos_testkit::browser::{Browser, CHROMEDRIVER, CHROMIUM};
use serde_json::json;

use crate::report::Report;
use crate::served::Served;

pub(crate) async fn run(size: u64) -> anyhow::Result<Report> {
    let served = Served::start(None, &[]).await?;
    let base = served.base.clone();

    let script = reqwest::get(format!("{base}/custos.js")).await?.error_for_status()?.bytes().await?;
    let mut gzip = Command::new("gzip").arg("-9c").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    gzip.stdin.take().ok_or_else(|| anyhow::anyhow!("gzip has no stdin"))?.write_all(&script)?;
    let gzipped = gzip.wait_with_output()?.stdout.len();

    let mut report = Report::new("banner");
    report
        .note("page", "/demo")
        .figure("script_bytes", script.len() as f64, "B")
        .figure("script_gzip_bytes", gzipped as f64, "B")
        .target("script_gzip_bytes", "<=", 10_240.0);
    let browser_here = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if browser_here {
        let (banner, loaded) = page_loads(&base, size.clamp(1, 1000)).await?;
        report
            .note("page_loads", banner.len())
            .figure("banner_interactive_p50_ms", percentile(&banner, 0.5), "ms")
            .figure("banner_interactive_p95_ms", percentile(&banner, 0.95), "ms")
            .figure("dom_content_loaded_p50_ms", percentile(&loaded, 0.5), "ms")
            .target("banner_interactive_p95_ms", "<=", 200.0);
    } else {
        report.note("browser", format!("{CHROMIUM} or {CHROMEDRIVER} is missing: no timing"));
    }
    served.finish().await?;
    Ok(report)
}

/// For each of `loads` fresh loads of the demo page: when the banner's buttons were in the
/// page and when DOMContentLoaded ended, in ms after navigation start.
async fn page_loads(base: &str, loads: u64) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let browser = Browser::start(false).await;
    // Noted the moment the banner's last button is attached: custos.js wires each button
    // as it creates it, so from then on a click works.
    browser
        .command(
            "goog/cdp/execute",
            json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source":
                "new MutationObserver((_, o) => { const b = document.querySelectorAll('#custos-banner button'); \
                 if (b.length >= 2 && !window.__bannerAt) { window.__bannerAt = performance.now(); o.disconnect(); } })\
                 .observe(document, {childList: true, subtree: true});"}}),
        )
        .await;
    let (mut banner, mut loaded) = (Vec::new(), Vec::new());
    // One load first to warm the browser's caches of its own, not measured.
    for n in 0..=loads {
        browser.goto(&format!("{base}/demo?load={n}")).await;
        let mut timing = serde_json::Value::Null;
        for _ in 0..100 {
            timing = browser
                .script(
                    "const n = performance.getEntriesByType('navigation')[0]; \
                     return {banner: window.__bannerAt || null, dcl: n ? n.domContentLoadedEventEnd : null}",
                )
                .await;
            if timing["banner"].is_number() && timing["dcl"].as_f64().is_some_and(|d| d > 0.0) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let (Some(at), Some(dcl)) = (timing["banner"].as_f64(), timing["dcl"].as_f64()) else {
            anyhow::bail!("the banner did not show on load {n}: {timing}");
        };
        if n > 0 {
            banner.push(at);
            loaded.push(dcl);
        }
        // The next load starts with no choice stored.
        browser
            .script(
                "document.cookie.split('; ').forEach(c => document.cookie = c.split('=')[0] + '=; Max-Age=0; Path=/')",
            )
            .await;
    }
    Ok((banner, loaded))
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}
