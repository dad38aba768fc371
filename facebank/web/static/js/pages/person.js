// The person page.
