"""An iris-species classifier served over HTTP with FastAPI."""
