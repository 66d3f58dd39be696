"""The tenant's rule catalog: drafts, immutable published versions, retirement."""
