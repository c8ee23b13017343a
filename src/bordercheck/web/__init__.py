"""The console: server-rendered pages for the people who use bordercheck, in their language."""
