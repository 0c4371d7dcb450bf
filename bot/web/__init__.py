"""The web chat: a mobile-first page and a small JSON API over the shared conversation core.

Community service accounts (WeChat official accounts, mostly) link here, often with the
region filled in: `/?region=650100&src=jiedao12`. The adapter turns HTTP JSON into
`InEvent`s (platform "web") and lays out `OutMessage`s; it decides nothing.

Modules: `session` (signed cookie), `transcript` (what the page shows, kept in Redis),
`limits` (the per-session rate, kept by the core's store), `api` (the JSON endpoints), `app` (routes, headers, static
files), `server` (`python -m bot web`).
"""
