// The sessions page.
