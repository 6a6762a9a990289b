# The SDK's exec, and the file behind hostname.
sleeper = client.containers.get(f"sleeper-{RUN}")
sleeper_hostname = sleeper.exec_run("cat /etc/hostname").output.decode().strip()
