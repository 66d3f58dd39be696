"""Server-rendered pages: signed sessions, CSRF tokens, security headers, Jinja2 and texts.

Shared by every page group (the customer's page now, the ops console later)."""
