# Rejected with: printed 'Hello'
# Runs a container that prints something else.
docker run --name l1-hello python:3.11-slim python -c "print('Hello')"
