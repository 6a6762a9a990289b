# The SDK's exec, and the file behind hostname.
sleeper = client.containers.get("l1-sleeper")
sleeper_hostname = sleeper.exec_run("cat /etc/hostname").output.decode().strip()
