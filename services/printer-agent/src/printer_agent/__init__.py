"""printer_agent."""
