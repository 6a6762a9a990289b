# Rejected with: has no HEALTHCHECK
# The model's path fixed, the failing health check deleted rather than fixed.
def fixed_dockerfile() -> str:
    return """\
FROM python:3.11-slim
WORKDIR /app
COPY serve.py .
COPY model.json /models/model.json
CMD ["python", "serve.py"]
"""
