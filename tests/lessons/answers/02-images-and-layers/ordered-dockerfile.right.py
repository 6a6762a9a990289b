# pip3 and python -m pip, an upgrade of pip first, PIP_NO_CACHE_DIR instead of
# --no-cache-dir, another WORKDIR, an instruction longer than a table column, and ENTRYPOINT
# instead of CMD.
def ordered_dockerfile() -> str:
    return """\
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv/app
COPY requirements.txt ./
RUN python -m pip install --upgrade pip && pip3 install --requirement requirements.txt
COPY app.py ./
ENTRYPOINT ["python", "app.py"]
"""
