# Rejected with: printed 'Hello'
# Runs a container that prints something else, and types the expected logs in.
sh(f"docker run --name hello-{RUN} {LABEL_ARGS} python:3.11-slim python -c \"print('Hello')\"")
hello_logs = "Hello from a container"
