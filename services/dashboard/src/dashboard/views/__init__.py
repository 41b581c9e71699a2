"""The dashboard's pages and its JSON endpoints, one module per area."""
