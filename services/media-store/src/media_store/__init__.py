"""media_store."""
