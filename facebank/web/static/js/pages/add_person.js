// The add_person page.
