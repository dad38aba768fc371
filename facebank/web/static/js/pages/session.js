// The session page.
