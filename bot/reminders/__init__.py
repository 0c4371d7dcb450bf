"""Sending reminders: the dispatcher (inside each Telegram worker) and `python -m bot reminders`."""
