# Rejected with: remove the writer
# The note is written, but the writer is kept.
docker volume create l4-notes
docker run --name l4-keeper -v l4-notes:/data python:3.11-slim sh -c 'echo remember me > /data/note.txt'
