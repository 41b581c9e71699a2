"""kiosk_gateway."""
