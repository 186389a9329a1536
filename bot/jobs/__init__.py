"""Scheduled jobs inside `promobot serve`: digests and the request sweep (not a Slack surface)."""
