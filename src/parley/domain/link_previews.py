"""Link previewers and mail scanners: they fetch a reply link before the person does."""

from __future__ import annotations

# Substrings of User-Agent headers of known preview fetchers and link scanners.
PREVIEW_AGENTS = (
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "slackbot",
    "slack-imgproxy",
    "twitterbot",
    "telegrambot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "microsoftpreview",
    "teams",
    "applebot",
    "google-pagerenderer",
    "googlebot",
    "bingbot",
    "bingpreview",
    "pinterest",
    "redditbot",
    "embedly",
    "iframely",
    "mattermost",
    "viber",
    "snapchat",
    "outlook",
    "ms-office",
    "microsoft office",
    "proofpoint",
    "mimecast",
    "barracuda",
)


def is_link_preview(user_agent: str | None) -> bool:
    """True for a fetch by a previewer or scanner; a missing agent is not a person either."""
    if not user_agent:
        return True
    agent = user_agent.casefold()
    return any(marker in agent for marker in PREVIEW_AGENTS)
