# The model left where it was copied and the app told where it is; a shell-form check.
def fixed_dockerfile() -> str:
    return """\
FROM python:3.11-slim
WORKDIR /app
COPY serve.py .
COPY model.json /model/model.json
ENV MODEL_PATH=/model/model.json
HEALTHCHECK --interval=2s --timeout=3s --retries=3 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')" || exit 1
CMD ["python", "serve.py"]
"""
