# Rejected with: let the container write the file
# A container with the mount, but the file written on the host.
import socket

(WORK / "out").mkdir(exist_ok=True)
sh(f"docker run --name writer-{RUN} {LABEL_ARGS} -v {WORK / 'out'}:/out python:3.11-slim true")
(WORK / "out" / "hostname.txt").write_text(socket.gethostname())
written_hostname = (WORK / "out" / "hostname.txt").read_text().strip()
