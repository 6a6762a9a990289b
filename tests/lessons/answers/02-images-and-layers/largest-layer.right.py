# docker history's sizes in bytes, not the SDK.
sizes = out("docker history --human=false --format '{{.Size}}' layers-" + RUN + ":two-runs")
largest_layer_mb = max(int(size) for size in sizes.split()) / 1e6
