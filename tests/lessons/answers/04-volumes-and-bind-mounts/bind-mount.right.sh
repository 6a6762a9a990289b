# --mount instead of -v, and the file behind hostname.
mkdir -p out
docker run --name l4-writer --mount type=bind,source="$(pwd)/out",target=/out \
    python:3.11-slim sh -c 'cat /etc/hostname > /out/hostname.txt'
