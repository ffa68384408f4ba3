"""The engines readq's tasks run: plain Python, no Celery, each testable on its own."""
