//! The end-to-end test of the demo page: Playwright (`playwright-core`,
//! pinned in `tests/e2e/package-lock.json`) drives Debian's Chromium through
//! the page served by the same machinery as `cargo xtask demo`
//! ([`demo::start_demo`]). Expects `pkg/` to be built.

use crate::{demo, setup, step, Result};

const DIR: &str = "tests/e2e";

pub fn run() -> Result {
    setup::chromium()?;
    npm_ci()?;
    let demo = demo::start_demo()?;
    step("end-to-end test of the demo page (Playwright + headless Chromium)");
    crate::say(&format!("demo page {} , emulator {}", demo.page_url, demo.emulator_url));
    let out_dir = crate::root().join("target/e2e");
    crate::run(
        crate::runtimes::node_test()
            .arg(DIR)
            .env("DEMO_PAGE_URL", &demo.page_url)
            .env("DEMO_EMULATOR_URL", &demo.emulator_url)
            .env("E2E_OUT_DIR", &out_dir),
    )
    .map_err(|e| format!("end-to-end test failed: {e} (screenshots in {})", out_dir.display()))
}

/// `npm ci` in tests/e2e when playwright-core or axe-core is missing or older than the lockfile.
pub fn npm_ci() -> Result {
    crate::setup::npm_ci(
        DIR,
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        "the end-to-end test's npm packages",
    )
}
