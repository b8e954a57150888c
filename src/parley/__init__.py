"""Parley: client messaging for law firms, on the portal and by two-way SMS."""
