"""The web channel: every engine screen as a server-rendered HTML page (``eport-guide web``)."""
