# Rejected with: is not the hostname inside
# The container's name, not its hostname (which is its id, unless set).
sleeper_hostname = "l1-sleeper"
