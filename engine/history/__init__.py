"""The conversation history: every contact, reply, decision and change, per customer."""
