# The file's absolute path, the shell's echo, the logs read with the SDK.
sh(f"docker run --name settings-{RUN} {LABEL_ARGS} --env-file {WORK / 'model.env'} python:3.11-slim sh -c 'echo $MODEL_VERSION'")
model_version = client.containers.get(f"settings-{RUN}").logs().decode().strip()
