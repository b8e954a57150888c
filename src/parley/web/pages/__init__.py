"""Server-rendered pages: the reply page, the staff app, and the demo's helpers."""
