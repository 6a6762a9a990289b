# Rejected with: remove the writer
# The note is written, but the writer is kept.
sh(f"docker volume create {LABEL_ARGS} notes-{RUN}")
sh(f"docker run --name keeper-{RUN} {LABEL_ARGS} -v notes-{RUN}:/data python:3.11-slim sh -c 'echo remember me > /data/note.txt'")
