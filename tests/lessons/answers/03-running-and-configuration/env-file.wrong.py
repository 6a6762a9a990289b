# Rejected with: did not get
# The value read on the host and passed with -e: the file's other settings are lost.
version = (WORK / "model.env").read_text().split("MODEL_VERSION=")[1].split()[0]
sh(f"docker run --name settings-{RUN} {LABEL_ARGS} -e MODEL_VERSION={version} python:3.11-slim python -c 'import os; print(os.environ[\"MODEL_VERSION\"])'")
model_version = version
