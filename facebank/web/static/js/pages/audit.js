// The audit page.
