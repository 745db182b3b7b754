"""Shell sessions: one interface, several transports (local process, SSH channel)."""
