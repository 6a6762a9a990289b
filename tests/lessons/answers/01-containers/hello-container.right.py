# The SDK instead of the CLI.
client.containers.run("python:3.11-slim", ["python", "-c", "print('Hello from a container')"], name=f"hello-{RUN}", labels=LABELS)
hello_logs = client.containers.get(f"hello-{RUN}").logs().decode()
