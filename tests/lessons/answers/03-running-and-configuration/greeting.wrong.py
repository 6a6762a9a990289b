# Rejected with: use ENTRYPOINT
# Prints Hello, Docker, but `docker run IMAGE World` runs a program named World.
def greeting_dockerfile() -> str:
    return """\
FROM python:3.11-slim
COPY greet.py /greet.py
CMD ["python", "/greet.py", "Docker"]
"""
