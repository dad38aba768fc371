// The verify page.
