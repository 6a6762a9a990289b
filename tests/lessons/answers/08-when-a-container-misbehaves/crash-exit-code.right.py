# The docker SDK: run detached, then wait for the exit.
crashing = client.containers.run(f"broken-{RUN}", name=f"crash-{RUN}", labels=LABELS, detach=True)
crash_exit_code = crashing.wait()["StatusCode"]
