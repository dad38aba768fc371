// The account page.
