# Rejected with: let the container write the file
# A container with the mount, but the file written on the host.
mkdir -p out
docker run --name l4-writer -v "$PWD/out":/out python:3.11-slim true
hostname > out/hostname.txt
