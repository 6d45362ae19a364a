"""Captioner: news clips to broadcast-style captions with Whisper.

The library knows nothing of Flask or Celery; the CLI, the worker and the tests all call it.
"""

__version__ = "0.1.0"
