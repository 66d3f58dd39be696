"""The customer's own page: getting in by signed link, and what the pages show beyond the API."""
