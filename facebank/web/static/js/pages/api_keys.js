// The api_keys page.
