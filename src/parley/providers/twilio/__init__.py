"""Twilio: the Messages API adapter, its error codes and statuses, webhook signatures."""
