# Rejected with: install requirements.txt, which pins six==1.16.0
# Ordered, cached, without pip's cache: but six is not the one requirements.txt pins.
def ordered_dockerfile() -> str:
    return """\
FROM python:3.11-slim
WORKDIR /app
RUN pip install --no-cache-dir six
COPY app.py .
CMD ["python", "app.py"]
"""
