"""The alert desk: alert store, live page (SSE), Atom feed and signed webhooks over the alerts topic.

Entry point: ``desk.service.Desk`` (``watchfloor web`` runs one until SIGTERM/SIGINT).
"""
