# The SDK instead of the CLI.
client.volumes.create(f"notes-{RUN}", labels=LABELS)
client.containers.run("python:3.11-slim", ["sh", "-c", "printf 'remember me' > /data/note.txt"],
                      volumes={f"notes-{RUN}": {"bind": "/data", "mode": "rw"}}, remove=True)
