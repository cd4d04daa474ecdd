"""The web console under /ui and the API docs under /docs and /redoc, served from local files."""
