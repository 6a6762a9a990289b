# In the foreground: docker run returns the container's exit code, which would fail the cell.
docker run --name l8-crash l8-broken || echo "l8-crash exited with $?"
