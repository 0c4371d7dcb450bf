"""Helpers of `flows.understand`: text clean-up, numbers and durations, month expressions, keywords.

Each module does one job and is pure (no I/O); compiled patterns are module-level constants.
"""
