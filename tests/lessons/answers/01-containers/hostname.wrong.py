# Rejected with: that is the host's name
# The name of the machine the notebook runs on.
sleeper_hostname = socket.gethostname()
