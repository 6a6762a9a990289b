# Rejected with: it is not a container of l8-broken
# A container that exits with 1, but not of the broken image.
docker run -d --name l8-crash python:3.11-slim python -c 'raise SystemExit(1)'
docker wait l8-crash
