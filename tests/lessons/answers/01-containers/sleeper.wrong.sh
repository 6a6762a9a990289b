# Rejected with: is exited
# Forgets -d's reason: a command that ends, so the container is gone by the next exercise.
docker run -d --name l1-sleeper python:3.11-slim sleep 0
sleep 1
