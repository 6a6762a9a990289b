# python3, a WORKDIR and a relative path.
def greeting_dockerfile() -> str:
    return """\
FROM python:3.11-slim
WORKDIR /opt/greet
COPY greet.py .
ENTRYPOINT ["python3", "greet.py"]
CMD ["Docker"]
"""
