# Rejected with: run it from l5-site
# A web server on the right port, but python's own image: it serves a folder listing.
docker run -d --name l5-api -p "$HOST_IP"::8000 python:3.11-slim python -m http.server 8000
