// The system page.
