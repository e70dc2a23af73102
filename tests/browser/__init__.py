"""Browser tests: the pages end to end in a real headless Chromium, driven by Playwright."""
