"""Who is calling: admin, a tenant key, or a customer token."""
