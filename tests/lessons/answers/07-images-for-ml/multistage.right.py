# Other folders, an absolute destination and ENTRYPOINT instead of WORKDIR and CMD.
def multistage_dockerfile() -> str:
    return """\
FROM python:3.11-slim AS train
WORKDIR /build
COPY train.py /build/
RUN python train.py

FROM python:3.11-slim
COPY --from=train /build/model.json /srv/model.json
COPY serve.py /srv/serve.py
ENTRYPOINT ["python", "/srv/serve.py"]
"""
