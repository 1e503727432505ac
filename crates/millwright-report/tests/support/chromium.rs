//! Opens a report in headless Chromium and reads back what the browser saw: the sections, each image's
//! natural size, and every error (script, console, failed load, Content-Security-Policy violation).
//! Shared by the report crate's tests and the demo test (included with `#[path]`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser, or `None` with the reason printed (the calling test then skips). Under `CI=true` a missing
/// browser is a failure: CI installs it, so its absence means the check silently stopped running.
pub fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from(CHROMIUM);
    if path.exists() {
        return Some(path);
    }
    let reason = format!("{CHROMIUM} is absent (Debian package `chromium`)");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{reason}; CI must install it (.ci/run)"
    );
    println!("SKIPPED: {reason}; the report was not opened in a browser");
    None
}

#[derive(Debug, serde::Deserialize)]
pub struct Image {
    pub alt: String,
    pub w: u32,
    pub h: u32,
    /// Rendered box, to catch images collapsed by the layout.
    pub box_w: f64,
    pub box_h: f64,
}

#[derive(Debug, serde::Deserialize)]
pub struct PageCheck {
    pub sections: Vec<String>,
    pub images: Vec<Image>,
    pub errors: Vec<String>,
    /// Console messages Chromium logged on stderr.
    #[serde(skip)]
    pub console: Vec<String>,
}

/// The probe runs before anything else in the page and writes its findings into the DOM on `load`, where
/// `--dump-dom` shows them. The report forbids scripts by CSP; the copy under test allows this one inline
/// script and keeps every other restriction (images only from `data:`, nothing from the network).
const PROBE: &str = r#"<script>
window.__errors = [];
window.addEventListener('error', e => __errors.push('error: ' + (e.message || ('failed to load ' + ((e.target && (e.target.currentSrc || e.target.src)) || '?').slice(0, 80)))), true);
document.addEventListener('securitypolicyviolation', e => __errors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));
for (const level of ['error', 'warn']) {
  const original = console[level];
  console[level] = (...args) => { __errors.push(level + ': ' + args.join(' ')); original.apply(console, args); };
}
window.addEventListener('load', () => {
  const images = [...document.images].map(i => {
    const r = i.getBoundingClientRect();
    return { alt: i.alt, w: i.naturalWidth, h: i.naturalHeight, box_w: r.width, box_h: r.height };
  });
  const sections = [...document.querySelectorAll('section')].map(s => s.id);
  const out = document.createElement('pre');
  out.id = '__probe';
  out.textContent = JSON.stringify({ sections, images, errors: __errors });
  document.body.appendChild(out);
});
</script>"#;

const REPORT_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

pub fn open(report: &Path, work: &Path) -> PageCheck {
    let html = std::fs::read_to_string(report).expect("read report");
    assert!(
        html.contains(REPORT_CSP),
        "the report must carry its Content-Security-Policy"
    );
    let probed = html
        .replacen(
            REPORT_CSP,
            &format!("{REPORT_CSP}; script-src 'unsafe-inline'"),
            1,
        )
        .replacen("<head>", &format!("<head>\n{PROBE}"), 1);
    let page = work.join("probed.html");
    std::fs::write(&page, probed).unwrap();
    let profile = work.join("chromium-profile");
    // Output goes to files: the DOM (with its data: URIs) would fill a pipe and stall the browser.
    let dom_path = work.join("dom.html");
    let log_path = work.join("chromium.log");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&dom_path).unwrap())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    let stderr = std::fs::read_to_string(&log_path).unwrap();
    let start = dom
        .find("<pre id=\"__probe\">")
        .unwrap_or_else(|| panic!("no probe output in the DOM; chromium stderr:\n{stderr}"));
    let rest = &dom[start + "<pre id=\"__probe\">".len()..];
    let json = &rest[..rest.find("</pre>").expect("probe end")];
    let json = json
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    let mut check: PageCheck = serde_json::from_str(&json).expect("probe JSON");
    check.console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    check
}
