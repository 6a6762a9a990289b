# Rejected with: is not where the engine keeps
# Where volumes usually are on Linux, typed in.
notes_mountpoint = "/var/lib/docker/volumes/notes/_data"
