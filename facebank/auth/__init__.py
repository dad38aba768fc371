"""Pure authentication logic: roles, password hashing, tokens, API keys, the server secret.

No HTTP and no database here; the services compose these with the store.
"""
