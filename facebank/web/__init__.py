"""The browser UI, served by the same process as the JSON API.

Pages are server-rendered Jinja2 shells (autoescaped) with one small ES module each; the
modules call the JSON API with the browser's session cookie and CSRF header, and put
what it returns on the page as text, never as markup. Access uses the API's own table:
a page declares the permission it needs, exactly as a route does.
"""
