# Rejected with: features.bin is in the image
# One stage: it trains and serves, and ships the training's leftovers.
def multistage_dockerfile() -> str:
    return """\
FROM python:3.11-slim
WORKDIR /app
COPY train.py serve.py ./
RUN python train.py
CMD ["python", "serve.py"]
"""
