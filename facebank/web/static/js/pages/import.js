// The import page.
