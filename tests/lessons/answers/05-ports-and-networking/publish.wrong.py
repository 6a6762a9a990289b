# Rejected with: is published on port
# The right container, but the port of the lesson's demo container (same page).
sh(f"docker run -d --name api-{RUN} {LABEL_ARGS} -p {HOST_IP}::8000 site-{RUN}")
api_port = host_port(f"web-{RUN}")
