// The new_session page.
