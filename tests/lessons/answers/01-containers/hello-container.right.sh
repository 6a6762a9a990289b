# The long form of the command, a shell's echo, and an explicit --rm=false.
docker container run --rm=false --name=l1-hello python:3.11-slim sh -c 'echo "Hello from a container"'
