// The users page.
