# Rejected with: is not the PID the engine's machine gives
# 1 is in the text above the exercise; the host PID is this kernel's own.
sh(f"docker run -d --name sleeper-{RUN} {LABEL_ARGS} python:3.11-slim sleep infinity")
sleep_pid = 1
sleep_host_pid = os.getpid()
