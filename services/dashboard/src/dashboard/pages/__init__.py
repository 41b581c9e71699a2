"""The dashboard's pages (HTML routers), one module per area; what they share is in `base`."""
